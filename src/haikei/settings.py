"""haikei.toml: a production's settings, read once and passed down (no globals).

```toml
[production]
name = "The Dog & The Boy"
width = 1920            # delivery frame size
height = 1080
episode = "ep01"

[database]
url = "sqlite:///haikei.db"      # relative sqlite paths are inside the production folder
                                  # or postgresql://user@host/db for a studio server
[blobs]
path = "blobs"                    # a path every render worker can reach (see specs/queue.md)

[render]
engine = "exemplar"
candidates = 3
allowed_engines = ["exemplar", "baseline", "sd"]

[delivery]
pattern = "{episode}_{bg}_bg_v{revision:03d}"

[signing]
cert_chain = "keys/chain.pem"
private_key = "keys/signer.key"

[classes.paddy_water]             # studio classes extend the vocabulary
colour = [90, 200, 200]
fallback = ["water", "rice_paddy"]

[engines.sd]                      # engine tables are passed to the engine factory as they are
model = "/models/sd15"
```
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from haikei.domain.limits import DEFAULT_LIMITS, Limits
from haikei.domain.vocabulary import Vocabulary
from haikei.errors import ConfigError

__all__ = ["CONFIG_NAME", "Settings"]

CONFIG_NAME = "haikei.toml"


class ProductionSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, description="production title")
    width: int = Field(ge=16, le=16384, description="delivery frame width in pixels")
    height: int = Field(ge=16, le=16384, description="delivery frame height in pixels")
    episode: str = Field(default="", max_length=50, description="episode code used in file names, e.g. ep01")


class DatabaseSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(default="sqlite:///haikei.db", description="sqlite:///FILE or postgresql://...")


class BlobSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(default="blobs", description="content-addressed blob folder; shared by all workers")


class RenderSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    engine: str = Field(default="exemplar", description="default engine")
    candidates: int = Field(default=3, ge=1, le=16, description="candidates per cut")
    allowed_engines: list[str] = Field(
        default_factory=lambda: ["exemplar", "baseline", "sd"], description="engines delivery accepts"
    )


class DeliverySection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pattern: str = Field(
        default="{episode}_{bg}_bg_v{revision:03d}",
        description="file name pattern; fields: episode, bg, cut, revision, production",
    )


class SigningSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cert_chain: str = Field(default="keys/chain.pem", description="PEM: signing cert then intermediates/root")
    private_key: str = Field(default="keys/signer.key", description="PEM private key of the signing cert")


class WebSection(BaseModel):
    """[web]: the review server (fields added by the web hardening and review work)."""

    model_config = ConfigDict(extra="forbid")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        max_length=100,
        description=(
            "addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For / "
            "X-Forwarded-Proto are believed, e.g. ['127.0.0.1', '10.0.0.0/8']; default none: "
            "the peer address is the client"
        ),
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        import ipaddress

        for item in v:
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or network; write e.g. '10.0.0.5' or '10.0.0.0/8'"
                ) from None
        return [item.strip() for item in v]


class LimitsSection(BaseModel):
    """[limits]: the one place where haikei's size limits are stated (a studio may raise them).

    Defaults are haikei.domain.limits.DEFAULT_LIMITS; the upper bounds keep a typo from switching a
    guard off (a 10-gigapixel "limit" is no limit)."""

    model_config = ConfigDict(extra="forbid")
    max_frame_side: int = Field(
        default=DEFAULT_LIMITS.max_frame_side, ge=256, le=16384, description="a frame's width or height, px"
    )
    max_pan_length: int = Field(
        default=DEFAULT_LIMITS.max_pan_length,
        ge=256,
        le=16384,
        description="how far a PAN travels, px (16384: the largest side an engine paints)",
    )
    max_pixels: int = Field(
        default=DEFAULT_LIMITS.max_pixels,
        ge=1_000_000,
        le=2_000_000_000,
        description="pixels of any image haikei reads or BG it makes",
    )

    def limits(self) -> Limits:
        return Limits(self.max_frame_side, self.max_pan_length, self.max_pixels)


class ReviewSection(BaseModel):
    """[review]: how the work maps to review states (status short names, rows of review_statuses)."""

    model_config = ConfigDict(extra="forbid")
    rendered: str = Field(
        default="wfa",
        max_length=20,
        description="status a BG moves to when its first candidates are rendered (from to do / wip)",
    )
    new_version: str = Field(
        default="wfa", max_length=20, description="status when a retake, refine or paint-over arrives"
    )
    delivered: str = Field(
        default="done", max_length=20, description="status an approved BG gets when it is exported"
    )
    delivery_folder: str = Field(
        default="delivery",
        max_length=500,
        description="where the page's export writes (inside the production)",
    )


class KitsuSection(BaseModel):
    """[kitsu]: the studio's Kitsu tracker (credentials come only from the environment:
    HAIKEI_KITSU_EMAIL + HAIKEI_KITSU_PASSWORD, or HAIKEI_KITSU_TOKEN; never from this file)."""

    model_config = ConfigDict(extra="forbid")
    host: str = Field(
        default="", max_length=500, description="Kitsu server root, e.g. https://kitsu.studio.lan (no /api)"
    )
    project: str = Field(default="", max_length=200, description="the Kitsu project (production) name")
    episodes: list[str] = Field(default_factory=list, description="episodes to pull; empty = all")
    bg_task_type: str = Field(default="Background", min_length=1, max_length=80)
    layout_task_type: str = Field(default="Layout", min_length=1, max_length=80)
    shared_bg_field: str = Field(
        default="bg",
        max_length=80,
        description="shot data field naming the BG shared by several shots (兼用)",
    )
    status_waiting: str = Field(default="wfa", min_length=1, max_length=20)
    status_retake: str = Field(default="retake", min_length=1, max_length=20)
    status_approved: str = Field(default="done", min_length=1, max_length=20)
    status_delivered: str = Field(default="done", min_length=1, max_length=20)
    users: dict[str, str] = Field(
        default_factory=dict, description="Kitsu e-mail -> haikei user name, where the names differ"
    )
    location_asset_type: str = Field(
        default="Background",
        max_length=80,
        description="Kitsu asset type whose asset cast in a shot names the BG's location; empty = off",
    )
    poll_seconds: float = Field(default=10.0, ge=0.5, le=3600, description="--watch: seconds between passes")
    retries: int = Field(default=4, ge=0, le=20, description="tries again after a refused connection or 5xx")
    backoff_seconds: float = Field(default=0.5, ge=0.01, le=60, description="first wait; doubles each retry")
    timeout_seconds: float = Field(default=30.0, ge=1, le=600, description="one request's time limit")
    push_workers: int = Field(default=4, ge=1, le=16, description="previews uploaded at once")
    preview_width: int = Field(
        default=1200,
        ge=0,
        le=16384,
        description="BGs wider than this are published to Kitsu at this width (Kitsu's player size); 0 = full size",
    )


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    production: ProductionSection
    database: DatabaseSection = Field(default_factory=DatabaseSection)
    blobs: BlobSection = Field(default_factory=BlobSection)
    render: RenderSection = Field(default_factory=RenderSection)
    delivery: DeliverySection = Field(default_factory=DeliverySection)
    signing: SigningSection = Field(default_factory=SigningSection)
    web: WebSection = Field(default_factory=WebSection)
    limits: LimitsSection = Field(default_factory=LimitsSection)
    review: ReviewSection = Field(default_factory=ReviewSection)
    kitsu: KitsuSection = Field(default_factory=KitsuSection)
    classes: dict[str, dict[str, Any]] = Field(default_factory=dict)
    engines: dict[str, dict[str, Any]] = Field(default_factory=dict)

    # -- derived ----------------------------------------------------------------------------
    def vocabulary(self) -> Vocabulary:
        if not self.classes:
            return Vocabulary()
        try:
            return Vocabulary().extended(self.classes)
        except (ValueError, KeyError) as exc:
            raise ConfigError(f"{CONFIG_NAME} [classes]: {exc}") from None

    def database_url(self, root: Path) -> str:
        url = self.database.url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            rel = url[len("sqlite:///") :]
            return f"sqlite:///{(root / rel).resolve()}"
        return url

    def blob_root(self, root: Path) -> Path:
        p = Path(self.blobs.path)
        return p if p.is_absolute() else root / p

    # -- file I/O ---------------------------------------------------------------------------
    @classmethod
    def load(cls, root: Path) -> Settings:
        path = root / CONFIG_NAME
        if not path.is_file():
            raise ConfigError(
                f"{root}: not a haikei production (no {CONFIG_NAME}); "
                "create one with 'haikei init PATH --name NAME' or pass -p PATH"
            )
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file") from None
        try:
            settings = cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            raise ConfigError(f"{path}: {where}: {first['msg']}; fix the file") from None
        settings.vocabulary()  # validate class extensions early
        return settings

    def dump(self) -> str:
        return tomli_w.dumps(self.model_dump(exclude_defaults=False))
