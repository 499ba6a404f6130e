"""Official SDK clients pointed at a running iic server."""

from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkidentitycenter.v1 import IdentityCenterClient


def http_config():
    cfg = HttpConfig.get_default_config()
    cfg.timeout = (5, 30)
    return cfg


def identity_center(server, ak=None, sk=None, domain_id="auto", security_token=None):
    creds = GlobalCredentials(ak or server.creds["access_key"], sk or server.creds["secret_key"],
                              server.creds["account_id"] if domain_id == "auto" else domain_id)
    if security_token:
        creds = creds.with_security_token(security_token)
    return (IdentityCenterClient.new_builder()
            .with_http_config(http_config())
            .with_credentials(creds)
            .with_endpoint(server.url)
            .build())


def basic_credentials(server, project_id="auto"):
    return BasicCredentials(server.creds["access_key"], server.creds["secret_key"],
                            server.creds["project_id"] if project_id == "auto" else project_id)


def identity_store(server, project_id="auto", ak=None, sk=None, security_token=None):
    from huaweicloudsdkidentitycenterstore.v1 import IdentityCenterStoreClient
    creds = BasicCredentials(ak or server.creds["access_key"], sk or server.creds["secret_key"],
                             server.creds["project_id"] if project_id == "auto" else project_id)
    if security_token:
        creds = creds.with_security_token(security_token)
    return (IdentityCenterStoreClient.new_builder()
            .with_http_config(http_config())
            .with_credentials(creds)
            .with_endpoint(server.url)
            .build())


def started_store_id(server):
    """Starts the service (idempotent) and returns the identity store id of its instance."""
    from huaweicloudsdkidentitycenter.v1 import ListInstancesRequest, StartIdentityCenterRequest
    ic = identity_center(server)
    ic.start_identity_center(StartIdentityCenterRequest())
    return ic.list_instances(ListInstancesRequest()).instances[0].identity_store_id


def organizations(server, ak=None, sk=None, account_id=None, security_token=None):
    from huaweicloudsdkorganizations.v1 import OrganizationsClient
    creds = GlobalCredentials(ak or server.creds["access_key"], sk or server.creds["secret_key"],
                              account_id or server.creds["account_id"])
    if security_token:
        creds = creds.with_security_token(security_token)
    return (OrganizationsClient.new_builder()
            .with_http_config(http_config())
            .with_credentials(creds)
            .with_endpoint(server.url)
            .build())


def oidc(server):
    """The OIDC client: unsigned, so it needs no credentials (the SDK's own placeholder)."""
    from huaweicloudsdkidentitycenteroidc.v1 import IdentityCenterOIDCClient
    from huaweicloudsdkidentitycenteroidc.v1.identitycenteroidc_credentials import (
        IdentityCenterOIDCCredentials)
    return (IdentityCenterOIDCClient.new_builder()
            .with_http_config(http_config())
            .with_credentials(IdentityCenterOIDCCredentials())
            .with_endpoint(server.url)
            .build())


def scim(server):
    """The SCIM client: unsigned; each request carries its own `Authorization: Bearer` header."""
    from huaweicloudsdkidentitycenterscim.v1 import IdentityCenterSCIMClient
    from huaweicloudsdkidentitycenterscim.v1.identitycenterscim_credentials import (
        IdentityCenterSCIMCredentials)
    return (IdentityCenterSCIMClient.new_builder()
            .with_http_config(http_config())
            .with_credentials(IdentityCenterSCIMCredentials())
            .with_endpoint(server.url)
            .build())
