from __future__ import annotations

from tongban.errors import InvalidInput, NotFound


class ItemNotFound(NotFound):
    code = "item_not_found"


class DepartmentNotFound(NotFound):
    code = "department_not_found"


class CatalogFileInvalid(InvalidInput):
    code = "catalog_file_invalid"
