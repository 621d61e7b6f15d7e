## Common tasks. `make help` lists them.
PY ?= .venv/bin/python
KEYWORDS = -k _ -k N_ -k translate -k TongbanError -k NotFound -k Forbidden -k Unauthenticated \
	-k Conflict -k InvalidInput -k TooLarge -k ItemNotFound -k DepartmentNotFound \
	-k CatalogFileInvalid -k ApplicationNotFound -k InvalidTransition -k NotEditable -k Incomplete -k NoDecisionYet \
	-k SystemNotFound -k MessageNotFound -k ConnectorFileInvalid -k SecurityConfigInvalid \
	-k LabelInvalid -k KeyInvalid -k UnlabelledField -k FieldNotUsable -k WriteDownRefused \
	-k DecryptionFailed -k ChangeNotFound -k ChangeNotPending -k DualControlRefused -k SecurityTargetUnknown \
	-k SignInFailed -k TotpRequired -k TotpInvalid -k TotpEnrolmentRequired -k TotpAlreadyEnabled \
	-k AccountNotFound -k SessionNotFound -k LegalPersonNotFound -k NotAuthorisedFor \
	-k PersonNotFound -k CompanyNotFound -k RecordNotFound -k ReviewNotFound -k LinkEventNotFound \
	-k AlreadyDecided -k RecordFileInvalid -k IdentifierInvalid \
	-k ResourceFileInvalid -k ResourceNotFound -k RequestNotFound -k GrantNotFound -k ItemNotShared \
	-k UnknownItem -k PurposeNotAllowed -k RequestNotPending -k NoGrant -k GrantExpired -k GrantRevoked \
	-k ItemNotGranted -k BadBatch -k RateLimited -k ProviderUnavailable \
	-k FederationNotConfigured -k NodeInvalid -k RegistryRefused -k MessageRefused \
	-k MessageReplayed -k MessageInvalid -k UpstreamRefused -k RemoteRefused -k AnswerNotAuthentic \
	-k TemplateFileInvalid -k UnknownTemplate -k PersonalisationInvalid -k NotificationNotFound \
	-k CodeInvalid -k TooManyCodes -k AlreadyRated -k NotRateable -k RectificationNotFound -k RectificationClosed \
	-k RuleFileInvalid -k RuleNotFound -k OfferNotFound -k RunNotFound -k OfferClosed -k RunNotPending \
	-k VisitNotFound -k StillMissing -k NothingMissing -k BundleFileInvalid -k BundleNotFound \
	-k BundleCaseNotFound -k NotEligible -k ClaimCodeInvalid -k TooManyClaimCodes \
	-k FigureNotFound -k InvalidFilter -k NoExportYet -k EvidenceBelowGrade \
	-k DataUseNotFound -k ObjectionNotFound -k ObjectionClosed \
	-k LicenceTypeFileInvalid -k LicenceTypeNotFound -k LicenceNotFound -k LicenceAlreadyRevoked \
	-k ShareNotFound -k ShareEnded -k LicenceNotUsable -k KeyFileInvalid -k SealedCopyNotCleared \
	-k CheckpointInvalid -k CheckpointForked -k CheckpointRolledBack -k WitnessUnavailable \
	-k ConflictNotFound \
	-k HallFileInvalid -k HallNotFound -k BookingNotFound -k SlotUnavailable -k BookingRefused \
	-k BookingClosed -k NotMissedYet -k Overloaded \
	-k PaymentNotFound -k NothingToPay -k AlreadyPaid -k NotPayableNow \
	-k FeeUnpaid -k NotRefundable -k NotificationRefused -k PaymentProviderFailed \
	-k PaymentsNotConfigured
PO = tongban/web/locale/zh_CN/LC_MESSAGES/messages.po

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' Makefile | sed 's/:.*## /\t/'

install: ## create .venv and install tongban with its development tools
	./scripts/bootstrap

run: ## install and serve the platform with demo data on SQLite
	./run

test: ## the whole test suite, on SQLite and PostgreSQL
	./test

lint: ## ruff lint and format check, mypy, the layers' import contracts
	$(PY) -m ruff check tongban tests bench examples
	$(PY) -m ruff format --check tongban tests bench examples
	$(PY) -m mypy
	.venv/bin/lint-imports --no-cache --no-logo

messages: ## refresh the zh_CN catalog from the code and templates (then translate new entries)
	$(PY) -m babel.messages.frontend extract -F babel.cfg $(KEYWORDS) --no-location --omit-header --sort-output -o messages.pot .
	$(PY) -m babel.messages.frontend update -i messages.pot -o $(PO) -l zh_CN --no-fuzzy-matching --ignore-obsolete -w 100
	rm messages.pot

.PHONY: help install run test lint messages
