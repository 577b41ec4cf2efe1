"""Partner profiles and maps: loading with ``file:line`` errors, identification, map rules.

Public face::

    from edigate.partners import load_registry, check_config
    registry = load_registry(Path("."))                  # partners/*.yaml + maps/*.yaml
    partner = registry.identify(isa=("ZZ", "ACMERETAIL", "P")).require()
    partner.xref.resolve([("VN", "WID-100")])            # -> Resolution(sku=...)
    partner.uom.to_internal(Decimal(10), "CA", Decimal("54.00"), sku=...)
    partner.rules.apply(order_dict, "inbound")           # -> Applied(document, issues)
"""

from .errors import ConfigErrors, PartnerError, UnknownPartnerError, UomError
from .fields import DEFAULT_SCHEMA, FieldPath, Schema, parse_path, schema_from_model
from .loader import YamlSource, load, parse_yaml, read_yaml
from .mapfile import PartnerMap
from .passwords import hash_password, verify_password
from .profile import PartnerProfile
from .registry import CheckResult, Identification, Partner, Registry, check_config, load_registry
from .rules import Applied, CodeTable, MapIssue, RuleEngine
from .uom import Converted, UomTable
from .validation import AllowedCodes, ElementRef, MaxOccurs, RequiredSegment, ValidationSpec
from .xref import ItemId, Resolution, SkuXref

__all__ = [
    "DEFAULT_SCHEMA",
    "AllowedCodes",
    "Applied",
    "CheckResult",
    "CodeTable",
    "ConfigErrors",
    "Converted",
    "ElementRef",
    "FieldPath",
    "Identification",
    "ItemId",
    "MapIssue",
    "MaxOccurs",
    "Partner",
    "PartnerError",
    "PartnerMap",
    "PartnerProfile",
    "Registry",
    "RequiredSegment",
    "Resolution",
    "RuleEngine",
    "Schema",
    "SkuXref",
    "UnknownPartnerError",
    "UomError",
    "UomTable",
    "ValidationSpec",
    "YamlSource",
    "check_config",
    "hash_password",
    "load",
    "load_registry",
    "parse_path",
    "parse_yaml",
    "read_yaml",
    "schema_from_model",
    "verify_password",
]
