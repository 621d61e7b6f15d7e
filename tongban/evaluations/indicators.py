"""The national evaluation levels and indicators (政务服务“好差评”), as data."""

from __future__ import annotations

from tongban.evaluations.models import EvaluationChannel, Level
from tongban.kit.i18n import LocalText

LEVELS: dict[Level, LocalText] = {
    Level.VERY_SATISFIED: LocalText("非常满意", "Very satisfied"),
    Level.SATISFIED: LocalText("满意", "Satisfied"),
    Level.BASICALLY_SATISFIED: LocalText("基本满意", "Basically satisfied"),
    Level.DISSATISFIED: LocalText("不满意", "Dissatisfied"),
    Level.VERY_DISSATISFIED: LocalText("非常不满意", "Very dissatisfied"),
}
# A rating at or below this opens a rectification case.
BAD = Level.DISSATISFIED
# At or above this counts as satisfied in the published figures.
SATISFIED_FROM = Level.BASICALLY_SATISFIED

OVERALL = "overall"
INDICATORS: dict[EvaluationChannel, dict[str, LocalText]] = {
    EvaluationChannel.ONLINE: {
        OVERALL: LocalText("总体评价", "Overall"),
        "efficiency": LocalText("办事效率", "Efficiency"),
        "guide_accuracy": LocalText("办事指南准确性", "Accuracy of the guide"),
        "convenience": LocalText("办理便捷度", "Convenience"),
        "usability": LocalText("平台易用性", "Ease of use of the platform"),
    },
    EvaluationChannel.COUNTER: {
        OVERALL: LocalText("总体评价", "Overall"),
        "efficiency": LocalText("办事效率", "Efficiency"),
        "professional": LocalText("业务水平", "Professional level"),
        "attitude": LocalText("服务态度", "Attitude"),
    },
}
# Working days a department has to rectify and reply.
RECTIFY_WORKDAYS = 15
