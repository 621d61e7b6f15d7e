"""The catalog in machine-readable forms: DCAT (JSON-LD, built with rdflib) for the whole
catalog, and a Frictionless Table Schema per resource."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD

from tongban.exchange.models import InformationResource

TONGBAN = Namespace("https://tongban.example/ns#")
FREQUENCY = Namespace("http://publications.europa.eu/resource/authority/frequency/")
_FREQUENCIES = {
    "realtime": "CONT",
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "monthly": "MONTHLY",
    "quarterly": "QUARTERLY",
    "yearly": "ANNUAL",
}
_TABLE_TYPES = {
    "string": "string",
    "code": "string",
    "integer": "integer",
    "number": "number",
    "date": "date",
    "boolean": "boolean",
}


def dcat(
    resources: Sequence[InformationResource], departments: Mapping[int, tuple[str, str]], base: str
) -> dict[str, Any]:
    """The catalog as a DCAT ``dcat:Catalog`` of ``dcat:Dataset``s, in JSON-LD.

    ``departments``: id → (code, name). Each data item is described as a column of the
    dataset's table schema (``tongban:item``) with its label and sharing condition.
    """
    base = base.rstrip("/")
    graph = Graph()
    for prefix, namespace in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("tb", TONGBAN)):
        graph.bind(prefix, namespace)
    catalog = URIRef(f"{base}/api/v1/exchange/catalog.jsonld")
    graph.add((catalog, RDF.type, DCAT.Catalog))
    graph.add((catalog, DCTERMS.title, Literal("政务信息资源目录", lang="zh")))
    graph.add(
        (catalog, DCTERMS.title, Literal("Government information resource catalog", lang="en"))
    )
    for resource in resources:
        dataset = URIRef(f"{base}/api/v1/exchange/resources/{resource.code}")
        graph.add((catalog, DCAT.dataset, dataset))
        graph.add((dataset, RDF.type, DCAT.Dataset))
        graph.add((dataset, DCTERMS.identifier, Literal(resource.code)))
        graph.add((dataset, DCTERMS.title, Literal(resource.title_zh, lang="zh")))
        graph.add((dataset, DCTERMS.title, Literal(resource.title_en, lang="en")))
        if resource.description_zh:
            graph.add((dataset, DCTERMS.description, Literal(resource.description_zh, lang="zh")))
        if resource.description_en:
            graph.add((dataset, DCTERMS.description, Literal(resource.description_en, lang="en")))
        code, name = departments[resource.department_id]
        publisher = URIRef(f"{base}/departments/{code}")
        graph.add((dataset, DCTERMS.publisher, publisher))
        graph.add((publisher, RDF.type, FOAF.Organization))
        graph.add((publisher, FOAF.name, Literal(name, lang="zh")))
        graph.add(
            (
                dataset,
                DCTERMS.accrualPeriodicity,
                FREQUENCY[_FREQUENCIES[resource.update_frequency]],
            )
        )
        graph.add((dataset, DCTERMS.hasVersion, Literal(resource.version, datatype=XSD.integer)))
        graph.add((dataset, TONGBAN.openData, Literal(resource.open_data)))
        distribution = URIRef(f"{dataset}/table-schema.json")
        graph.add((dataset, DCAT.distribution, distribution))
        graph.add((distribution, RDF.type, DCAT.Distribution))
        graph.add((distribution, DCAT.mediaType, Literal(f"application/{resource.format.lower()}")))
        graph.add((distribution, DCTERMS.conformsTo, URIRef(f"{dataset}/table-schema.json")))
        for item in resource.items:
            node = BNode()
            graph.add((dataset, TONGBAN.item, node))
            graph.add((node, DCTERMS.identifier, Literal(item.code)))
            graph.add((node, DCTERMS.title, Literal(item.name_zh, lang="zh")))
            graph.add((node, DCTERMS.title, Literal(item.name_en, lang="en")))
            graph.add((node, TONGBAN.securityLabel, Literal(item.security_label)))
            graph.add((node, TONGBAN.sharing, Literal(item.sharing.value)))
            # The authoritative source: the office that maintains the item.
            graph.add((node, TONGBAN.maintainer, Literal(item.maintainer, lang="zh")))
            if item.condition_zh:
                graph.add((node, TONGBAN.condition, Literal(item.condition_zh, lang="zh")))
            if item.consent:
                graph.add((node, TONGBAN.consentRequired, Literal(True)))
            if item.element:
                graph.add((node, DCTERMS.conformsTo, TONGBAN[f"element/{item.element}"]))
    document: dict[str, Any] = json.loads(graph.serialize(format="json-ld"))
    return document


def table_schema(resource: InformationResource) -> dict[str, Any]:
    """The resource's records as a Frictionless Table Schema: a field per data item, keyed by
    the resource's lookup key where an item is it."""
    fields = []
    for item in resource.items:
        field: dict[str, Any] = {
            "name": item.code,
            "title": item.name_zh,
            "description": item.meaning_zh or item.name_en,
            "type": _TABLE_TYPES[item.type],
            # Beyond the standard (allowed: custom properties), what a consumer must respect.
            "securityLabel": item.security_label,
            "sharing": item.sharing.value,
            "maintainer": item.maintainer,
        }
        if item.condition_zh:
            field["sharingCondition"] = item.condition_zh
        if item.consent:
            field["consentRequired"] = True
        if item.format and item.type == "date":
            field["format"] = "default"
        fields.append(field)
    schema: dict[str, Any] = {"fields": fields}
    if any(i.code == resource.key for i in resource.items):
        schema["primaryKey"] = [resource.key]
    return schema
