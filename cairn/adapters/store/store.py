"""The store adapter: every query Cairn's services make, one part per concern, composed into one
`Store` so a service holds a single object (and `store.method()` reads the same as before)."""

from sqlalchemy.ext.asyncio import AsyncEngine

from cairn.adapters.keyring import Keyring
from cairn.adapters.secrets import load_or_create_master_key
from cairn.adapters.store.backup import BackupTables
from cairn.adapters.store.check_ins import CheckInTables
from cairn.adapters.store.credentials import CredentialTables
from cairn.adapters.store.direct_awards import DirectAwardTables
from cairn.adapters.store.earners import EarnerTables
from cairn.adapters.store.engine import StaleSchema, connect
from cairn.adapters.store.issuer_keys import IssuerKeyTables
from cairn.adapters.store.operations import OperationsTables
from cairn.adapters.store.organisations import OrganisationTables
from cairn.adapters.store.read_models import ReadModelTables
from cairn.adapters.store.volunteers import VolunteerTables
from cairn.adapters.store.webhooks import WebhookTables
from cairn.domain.records import Claim
from cairn.settings import Settings

__all__ = ["Claim", "StaleSchema", "Store", "open_store", "store_for"]


class Store(
    OrganisationTables,
    IssuerKeyTables,
    CredentialTables,
    EarnerTables,
    ReadModelTables,
    VolunteerTables,
    BackupTables,
    OperationsTables,
    DirectAwardTables,
    CheckInTables,
    WebhookTables,
):
    """All parts over one engine and one keyring."""

    def __init__(self, engine: AsyncEngine, keyring: Keyring) -> None:
        super().__init__(engine, keyring)


def store_for(settings: Settings) -> Store:
    """The store the settings point at, with the master key from CAIRN_MASTER_KEY_FILE."""
    return open_store(
        settings.resolved_database_url, load_or_create_master_key(settings.resolved_master_key_file)
    )


def open_store(database_url: str, master_key: bytes) -> Store:
    return Store(connect(database_url), Keyring(master_key))
