"""What the OpenAPI document says beyond Litestar's defaults: a request body refuses the fields
it does not know (schemas/common.py RequestBody, forbid_unknown_fields), so its schema says
`additionalProperties: false`, and a client or a fuzzer generating from it sends none."""

from __future__ import annotations

from typing import Any

from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import Schema
from litestar.typing import FieldDefinition

from schemas.common import RequestBody


class RequestBodySchemaPlugin(StructSchemaPlugin):
    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return not field_definition.is_union and field_definition.is_subclass_of(RequestBody)

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema
