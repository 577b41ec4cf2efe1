"""All partners of one config directory: loaded, cross-checked, and able to name a sender.

A config directory holds ``partners/*.yaml`` (profiles) and ``maps/*.yaml`` (maps, with
their SKU CSVs). :func:`check_config` validates everything and reports *every* problem as
``file:line: message``; :func:`load_registry` does the same and refuses to start on any.

Identification must never return the wrong partner. The ISA sender is looked up together
with ISA15 (a test identity does not match a production interchange), an identity claimed
by two partners matches neither (and is a check error), and when both the ISA sender and
the channel account are known they must name the same partner.

Usage::

    registry = load_registry(Path("."))
    found = registry.identify(isa=("ZZ", "ACMERETAIL", "P"), channel="sftp", account="acme")
    partner = found.require()          # UnknownPartnerError names what was seen
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Literal, TypeVar

from ..errors import ConfigError
from ..x12.overlay import Overlay, apply_overlay
from ..x12.spec import SpecError, available_sets, load_transaction
from .errors import ConfigErrors, UnknownPartnerError
from .layouts import template_problems
from .loader import YamlSource, read_yaml, validate
from .mapfile import PartnerMap, map_problems
from .profile import As2Out, Identity, PartnerProfile, SftpPush, Usage, profile_problems
from .rules import RuleEngine
from .uom import UomTable
from .validation import ValidationSpec, to_overlay
from .xref import SkuXref, build_xref

Channel = Literal["sftp", "as2", "email"]
_USAGES: tuple[Usage, ...] = ("production", "test")
K = TypeVar("K")


@dataclass
class Partner:
    """One partner, ready to use: its profile, its map, and the map compiled."""

    profile: PartnerProfile
    map: PartnerMap
    xref: SkuXref | None
    uom: UomTable
    rules: RuleEngine
    validation: dict[str, ValidationSpec]
    profile_source: YamlSource
    map_source: YamlSource
    #: The X12 validator's overlay per set ID, built once (the validator caches per object).
    overlays: dict[str, Overlay] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.profile.id

    def __repr__(self) -> str:
        return f"Partner({self.id!r}, map={self.profile.map!r})"


@dataclass(frozen=True)
class Identification:
    """Who sent it, or why nobody: ``seen`` names what we looked at, ``reason`` the refusal."""

    partner: Partner | None
    seen: str
    usage: Usage | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.partner is not None

    def require(self) -> Partner:
        if self.partner is None:
            raise UnknownPartnerError(self.reason or f"unknown sender {self.seen}", seen=self.seen)
        return self.partner


class Registry:
    """Partners by ID, plus the indexes identification needs."""

    def __init__(self, partners: Iterable[Partner], files: Iterable[str] = ()):
        self.partners: dict[str, Partner] = {}
        #: Every file the partners were loaded from (profiles, maps, SKU tables): what a
        #: change must reload.
        self.files: tuple[str, ...] = tuple(files)
        self._isa: dict[tuple[Usage, str, str], list[Partner]] = {}
        self._accounts: dict[tuple[Channel, str], list[Partner]] = {}
        for partner in partners:
            self.partners[partner.id] = partner
            profile = partner.profile
            if profile.identity is not None:
                for usage in _USAGES:
                    ident = profile.identity.for_usage(usage)
                    _add(self._isa, (usage, ident.qualifier, ident.id), partner)
            for channel, account in _accounts(profile):
                _add(self._accounts, (channel, account), partner)

    def __len__(self) -> int:
        return len(self.partners)

    def __iter__(self) -> Iterator[Partner]:
        return iter(self.partners.values())

    def get(self, partner_id: str) -> Partner | None:
        return self.partners.get(partner_id)

    def identify_interchange(
        self,
        qualifier: str,
        sender_id: str,
        usage: str,
        *,
        receiver: tuple[str, str] | None = None,
    ) -> Identification:
        """The partner whose ``usage`` identity (ISA15 ``P``/``T``) is ``qualifier:sender_id``.

        With ``receiver`` (ISA07, ISA08), it must also be our identity toward that partner.
        """
        qualifier, sender_id = qualifier.strip(), sender_id.strip()
        flag = {"P": "production", "T": "test"}.get(usage.strip(), usage.strip())
        seen = f"ISA {qualifier}:{sender_id}"
        if flag not in _USAGES:
            return Identification(None, seen, None, f"ISA15 {usage!r} is neither P nor T")
        env: Usage = "production" if flag == "production" else "test"
        seen = f"{seen} ({env})"
        owners = self._isa.get((env, qualifier, sender_id), [])
        if not owners:
            other: Usage = "test" if env == "production" else "production"
            also = self._isa.get((other, qualifier, sender_id), [])
            hint = ""
            if also:
                names = ", ".join(p.id for p in also)
                hint = f"; it is the {other} identity of {names}, but ISA15 says {env}"
            return Identification(None, seen, env, f"unknown sender {seen}{hint}")
        if len(owners) > 1:
            names = ", ".join(p.id for p in owners)
            return Identification(None, seen, env, f"sender {seen} is claimed by {names}")
        partner = owners[0]
        if receiver is not None and partner.profile.us is not None:
            ours = partner.profile.us.for_usage(env)
            if (receiver[0], receiver[1].strip()) != (ours.qualifier, ours.id):
                return Identification(
                    None,
                    seen,
                    env,
                    f"{seen} from {partner.id} is addressed to {receiver[0]}:"
                    f"{receiver[1].strip()}, but we are {ours} toward {partner.id}",
                )
        return Identification(partner, seen, env)

    def identify_account(self, channel: Channel, account: str) -> Identification:
        """The partner owning an SFTP username, an AS2-From name or an email sender."""
        key = _normalize(channel, account)
        seen = {"sftp": "sftp user", "as2": "AS2-From", "email": "email sender"}[channel]
        seen = f"{seen} {key!r}"
        owners = self._accounts.get((channel, key), [])
        if not owners:
            return Identification(None, seen, None, f"unknown {seen}")
        if len(owners) > 1:
            names = ", ".join(p.id for p in owners)
            return Identification(None, seen, None, f"{seen} is claimed by {names}")
        return Identification(owners[0], seen)

    def identify(
        self,
        *,
        isa: tuple[str, str, str] | None = None,
        receiver: tuple[str, str] | None = None,
        channel: Channel | None = None,
        account: str | None = None,
    ) -> Identification:
        """Combine the ISA sender ``(qualifier, id, ISA15)`` and the channel account.

        The ISA decides when given (an unknown account does not overrule a known ISA sender);
        a known account that belongs to another partner is a rejection, never a guess.
        """
        by_account = (
            self.identify_account(channel, account)
            if channel is not None and account is not None
            else None
        )
        if isa is None:
            if by_account is None:
                return Identification(None, "nothing", None, "no sender information")
            return by_account
        by_isa = self.identify_interchange(*isa, receiver=receiver)
        if not by_isa.ok or by_account is None or not by_account.ok:
            return by_isa
        assert by_isa.partner is not None and by_account.partner is not None
        if by_isa.partner.id != by_account.partner.id:
            return Identification(
                None,
                by_isa.seen,
                by_isa.usage,
                f"{by_isa.seen} is {by_isa.partner.id}, but it came from "
                f"{by_account.seen} of {by_account.partner.id}",
            )
        return by_isa


def _add(index: dict[K, list[Partner]], key: K, partner: Partner) -> None:
    owners = index.setdefault(key, [])
    if all(p.id != partner.id for p in owners):
        owners.append(partner)


def _normalize(channel: Channel, account: str) -> str:
    if channel == "email":
        return parseaddr(account)[1].strip().lower() or account.strip().lower()
    return account.strip()


def _accounts(profile: PartnerProfile) -> list[tuple[Channel, str]]:
    inbound = profile.inbound
    found: list[tuple[Channel, str]] = []
    if inbound.sftp is not None:
        found.append(("sftp", inbound.sftp.username))
    if inbound.as2 is not None:
        found.append(("as2", inbound.as2.partner_id))
    if inbound.email is not None:
        found.extend(("email", _normalize("email", a)) for a in inbound.email.senders)
    return found


# --- loading and checking ----------------------------------------------------------------------


@dataclass
class CheckResult:
    registry: Registry
    problems: list[ConfigError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def load_registry(config_dir: Path) -> Registry:
    """Load every partner of ``config_dir``; :class:`ConfigErrors` lists all problems."""
    result = check_config(config_dir)
    if result.problems:
        raise ConfigErrors(result.problems)
    return result.registry


def check_config(config_dir: Path) -> CheckResult:
    """Validate every profile and map in ``config_dir`` and everything between them."""
    problems: list[ConfigError] = []
    files: list[str] = []
    partners_dir = config_dir / "partners"
    maps_dir = config_dir / "maps"
    if not partners_dir.is_dir():
        problems.append(ConfigError("no partners/ directory here", path=str(partners_dir)))
        return CheckResult(Registry([]), problems, files)

    maps: dict[str, tuple[PartnerMap, YamlSource, SkuXref | None] | None] = {}
    for path in _yaml_files(maps_dir):
        files.append(str(path))
        maps[path.name] = found = _load_map(path, problems)
        if found is not None and found[0].sku is not None and found[0].sku.file is not None:
            files.append(str(path.parent / found[0].sku.file))  # may lie outside maps/

    profiles: list[tuple[PartnerProfile, YamlSource]] = []
    for path in _yaml_files(partners_dir):
        files.append(str(path))
        loaded = _load_profile(path, config_dir, problems)
        if loaded is not None:
            profiles.append(loaded)

    partners: list[Partner] = []
    for profile, source in profiles:
        name = profile.map_name
        if name not in maps:
            problems.append(source.error(f"map {maps_dir / name} not found", ("map",)))
            continue
        loaded_map = maps[name]
        if loaded_map is None:
            continue  # its own errors are reported
        pmap, map_source, xref = loaded_map
        specs = pmap.validation_specs()
        if pmap.format == "x12":
            problems.extend(_overlay_problems(pmap, map_source, profile.envelope.version))
        if pmap.format == "x12" and profile.identity is None:
            problems.append(
                source.error(f"map {name} is X12: the profile needs 'identity' and 'us'", ("map",))
            )
        if pmap.format != "x12" and profile.ack.functional != "none":
            problems.append(
                source.error(
                    f"a {profile.ack.functional} acknowledges X12, but map {name} is "
                    f"{pmap.format} (set 'functional: none')",
                    ("ack", "functional"),
                )
            )
        templates = pmap.templates
        if (
            pmap.format != "x12"
            and profile.ack.po_ack == "auto"
            and (templates is None or templates.order_ack is None)
        ):
            problems.append(
                source.error(
                    f"an automatic 855 to a {pmap.format} partner is written by a template: "
                    f"map {name} needs templates.order_ack",
                    ("ack", "855"),
                )
            )
        partners.append(
            Partner(
                profile=profile,
                map=pmap,
                xref=xref,
                uom=UomTable.from_section(pmap.uom),
                rules=RuleEngine.from_map(pmap, map_source),
                validation=specs,
                profile_source=source,
                map_source=map_source,
                overlays={k: to_overlay(v, profile.id) for k, v in specs.items()},
            )
        )
    problems.extend(_same_id_twice(profiles))
    problems.extend(_cross_partner(profiles))
    problems.sort(key=lambda e: (e.path or "", e.line or 0))
    return CheckResult(Registry(partners, files), problems, files)


def _yaml_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _load_profile(
    path: Path, config_dir: Path, problems: list[ConfigError]
) -> tuple[PartnerProfile, YamlSource] | None:
    try:
        source = read_yaml(path, str(path))
    except ConfigErrors as exc:
        problems.extend(exc.errors)
        return None
    profile, errors = validate(PartnerProfile, source)
    problems.extend(errors)
    if profile is None:
        return None
    for loc, message in profile_problems(profile):
        problems.append(source.error(message, loc))
    if profile.id != path.stem:
        problems.append(source.error(f"id {profile.id!r} differs from the file name", ("id",)))
    for loc, ref in _referenced_files(profile):
        if not (config_dir / ref).is_file():
            problems.append(source.error(f"file {ref} not found (relative to {config_dir})", loc))
    return profile, source


def _referenced_files(profile: PartnerProfile) -> list[tuple[tuple[str, ...], str]]:
    refs: list[tuple[tuple[str, ...], str]] = []
    if isinstance(profile.outbound, SftpPush) and profile.outbound.key_path is not None:
        refs.append((("outbound", "key_path"), profile.outbound.key_path))
    if isinstance(profile.outbound, As2Out) and profile.outbound.tls_ca is not None:
        refs.append((("outbound", "tls_ca"), profile.outbound.tls_ca))
    as2 = profile.inbound.as2
    if as2 is not None:
        for key in ("partner_certificate", "our_certificate", "our_private_key"):
            value = getattr(as2, key)
            if value is not None:
                refs.append((("inbound", "as2", key), value))
    return refs


def _load_map(
    path: Path, problems: list[ConfigError]
) -> tuple[PartnerMap, YamlSource, SkuXref | None] | None:
    try:
        source = read_yaml(path, str(path))
    except ConfigErrors as exc:
        problems.extend(exc.errors)
        return None
    pmap, errors = validate(PartnerMap, source)
    problems.extend(errors)
    if pmap is None:
        return None
    raw = source.data if isinstance(source.data, dict) else None
    for loc, message in map_problems(pmap, raw=raw):
        problems.append(source.error(message, loc))
    problems.extend(template_problems(pmap.templates, source, path.parent))
    xref = None
    if pmap.sku is not None:
        xref, xref_errors = build_xref(pmap.sku, source, path.parent)
        problems.extend(xref_errors)
    if pmap.uom is not None and (xref is None or xref.loaded):
        for unit, conv in pmap.uom.conversions.items():
            for sku in conv.per_sku:
                if xref is None or not xref.to_partner(sku):
                    problems.append(
                        source.error(
                            f"SKU {sku} is not in the SKU table",
                            ("uom", "conversions", unit, "per_sku", sku),
                        )
                    )
    return pmap, source, xref


def _overlay_problems(pmap: PartnerMap, source: YamlSource, family: str) -> list[ConfigError]:
    """Apply each overlay restriction alone to the standard spec, so a typo (a segment the
    set does not have, a code longer than the element) is reported at its own line.

    Sets without a spec in ``family`` cannot be checked here; the validator skips them too.
    """
    problems: list[ConfigError] = []
    for set_id, section in pmap.validation.items():
        try:
            if set_id not in available_sets(family):
                continue
            spec = load_transaction(set_id, family)
        except SpecError:
            continue  # a broken spec file is not this partner's problem
        for loc, single in section.items():
            try:
                apply_overlay(spec, to_overlay(single.to_spec(set_id)))
            except SpecError as exc:
                message = exc.detail.removeprefix("overlay: ")
                problems.append(source.error(message, ("validation", set_id, *loc)))
    return problems


def _same_id_twice(profiles: Sequence[tuple[PartnerProfile, YamlSource]]) -> list[ConfigError]:
    """One partner in two files (``acme.yaml`` beside a copy ``acme.yml``): which one would
    serve use? Reported on the second."""
    first: dict[str, str] = {}
    problems = []
    for profile, source in profiles:
        seen = first.setdefault(profile.id, source.path)
        # A copy whose id is not its file name's has that error already.
        if seen != source.path and Path(source.path).stem == profile.id:
            problems.append(
                source.error(f"partner {profile.id!r} is also defined in {seen}", ("id",))
            )
    return problems


def _our_identities(profile: PartnerProfile) -> list[tuple[str, Identity]]:
    """Our identities toward ``profile``'s partner, by usage, as its ``us:`` gives them."""
    if profile.us is None:
        return []
    given = (("production", profile.us.production), ("test", profile.us.test))
    return [(usage, ident) for usage, ident in given if ident is not None]


def _cross_partner(profiles: Sequence[tuple[PartnerProfile, YamlSource]]) -> list[ConfigError]:
    """Identities and accounts claimed twice, each reported where the second claim is.

    An ISA identity may belong to one partner only, whatever the usage: ISA15 would tell a
    test ZZ:X from a production ZZ:X, but two partners sharing an ID is a mistake.
    """
    problems: list[ConfigError] = []
    #: key -> (partner id, file, file:line, role) of its first claim.
    claims: dict[tuple[str, ...], tuple[str, str, str, str]] = {}

    def claim(
        key: tuple[str, ...],
        profile: PartnerProfile,
        source: YamlSource,
        loc: tuple[str | int, ...],
        what: str,
        role: str = "",
    ) -> None:
        first = claims.get(key)
        if first is None:
            claims[key] = (profile.id, source.path, f"{source.path}:{source.line_of(loc)}", role)
        elif first[1] != source.path:  # by file: a copy still naming the original's id too
            theirs = f"its {first[3]}, " if first[3] else ""
            problems.append(
                source.error(f"{what} is also claimed by {first[0]} ({theirs}{first[2]})", loc)
            )

    ours: dict[tuple[str, str], str] = {}
    for profile, source in profiles:
        for usage, mine in _our_identities(profile):
            key = (mine.qualifier, mine.id)
            ours.setdefault(key, f"{source.path}:{source.line_of(('us', usage))}")
    for profile, source in profiles:
        own = {
            (mine.qualifier, mine.id): f"{source.path}:{source.line_of(('us', usage))}"
            for usage, mine in _our_identities(profile)
        }
        if profile.identity is not None:
            given = {"production": profile.identity.production, "test": profile.identity.test}
            for usage, ident in given.items():
                if ident is None:
                    continue
                where = own.get((ident.qualifier, ident.id)) or ours.get(
                    (ident.qualifier, ident.id)
                )
                if where is not None:  # an interchange of ours would be taken as theirs
                    problems.append(
                        source.error(
                            f"identity {ident} is our own (us: at {where}); the partner's is "
                            "the ISA05/ISA06 its interchanges come from",
                            ("identity", usage),
                        )
                    )
                claim(
                    ("isa", ident.qualifier, ident.id),
                    profile,
                    source,
                    ("identity", usage),
                    f"identity {ident}",
                    f"{usage} identity",
                )
        inbound = profile.inbound
        if inbound.sftp is not None:
            name = inbound.sftp.username
            claim(
                ("sftp", name),
                profile,
                source,
                ("inbound", "sftp", "username"),
                f"SFTP username {name!r}",
            )
            for i, line in enumerate(inbound.sftp.public_keys):
                kind, blob = line.split()[:2]
                claim(  # whoever holds it would log in as either partner: a copied profile
                    ("sshkey", kind, blob),
                    profile,
                    source,
                    ("inbound", "sftp", "public_keys", i),
                    f"SSH key {kind} {blob[:12]}... (each partner's account needs its own)",
                )
        if inbound.as2 is not None:
            name = inbound.as2.partner_id
            claim(
                ("as2", name), profile, source, ("inbound", "as2", "partner_id"), f"AS2 ID {name!r}"
            )
        if inbound.email is not None:
            for i, sender in enumerate(inbound.email.senders):
                claim(
                    ("email", _normalize("email", sender)),
                    profile,
                    source,
                    ("inbound", "email", "senders", i),
                    f"email sender {sender!r}",
                )
    return problems
