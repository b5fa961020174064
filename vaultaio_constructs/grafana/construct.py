"""The Grafana construct: a StatefulSet provisioned from the wiring; SQLite on a PVC (one replica) or an
external database (stateless replicas).

Objects (``monitoring/`` unless noted):

* ServiceAccount and Service ``grafana`` (port ``http`` 3000); the specification's
  ``kubectl port-forward -n vault-aio svc/grafana 3000:3000`` works with or without the Ingress.
* ConfigMap ``grafana-config`` with ``grafana.ini``: nothing phones home, anonymous access and sign-up are
  off, and the admin user and password are read from the Secret ``grafana-admin`` (keys ``admin-user`` and
  ``admin-password``), mounted read-only and referenced with ``$__file{}``; the manifests never hold them.
* ConfigMap ``grafana-provisioning`` with ``datasources.yaml`` (URLs from the endpoints Grafana connected
  to, never literals; trace-to-logs, logs-to-trace and trace-to-metrics correlation) and ``dashboards.yaml``
  (one provider loading every dashboard file).
* One ConfigMap ``grafana-dashboard-<name>`` per dashboard in ``dashboards/``, labelled
* One ConfigMap ``grafana-dashboard-<name>`` per dashboard in ``dashboards/``, labelled
  ``grafana_dashboard: "1"`` and annotated with a folder (:class:`GrafanaDashboardSidecarProps`) so the
  common Grafana dashboard sidecar (kube-prometheus-stack's Grafana) loads them too; their queries pick
  data sources through dashboard variables, so they work against that Grafana's data sources. All of them
  are projected into one directory the provider reads.
* StatefulSet ``grafana`` under the ``restricted`` Pod Security profile: uid/gid 472 (the image's ``grafana``
  user), read-only root with an emptyDir ``/tmp``. With ``database: sqlite`` (default) one replica keeps the
  database on PVC ``data`` at ``/var/lib/grafana``; with an external ``postgres``/``mysql`` database
  (:mod:`.database`) ``/var/lib/grafana`` is an emptyDir (nothing there outlives a pod: state is in the
  database, plugins are not installed at runtime) and ``replicas`` may exceed one.
* With more than one replica: Grafana-managed alerting runs on every replica (the default unified alerting
  stays on: the alerting UI also shows the Prometheus and Loki rules), so the replicas form Grafana's
  alerting HA cluster (``[unified_alerting] ha_peers``, gossip on 9094 TCP and UDP through the headless
  Service ``grafana-internal``, Grafana pods only), which deduplicates the notifications of any
  Grafana-managed rule a user creates and shares its silences. Also a PodDisruptionBudget
  (``maxUnavailable: 1``), preferred anti-affinity across nodes and a zone spread (``ScheduleAnyway``).
  The ``grafana`` Service needs no session affinity: sessions are in the database.
* Optional Ingress ``grafana`` (:class:`GrafanaIngressProps`).

Data sources exist only for the stores Grafana was connected to (the stack's own or external ones); a
built-in dashboard is left out without the data source it is about (no Loki: no Vault Audit Logs or
Container Logs; no Tempo: no Trace Explorer) and otherwise keeps only the panels and variables whose data
sources Grafana has (no Loki: the Vault Overview loses its audit-log panels).
``grafana.enabled: false`` leaves Grafana out.

Create the admin Secret once before (or after: the pod waits for it) the first apply, or let
``scripts/init-vault.sh`` create it::

    kubectl -n vault-aio create secret generic grafana-admin \\
      --from-literal=admin-user=admin --from-literal=admin-password="$(openssl rand -base64 24)"
"""

from __future__ import annotations

from typing import Final

from cdk8s_plus_27 import k8s
from constructs import Construct

from vaultaio_constructs import kube
from vaultaio_constructs.alertmanager.construct import AlertmanagerApi
from vaultaio_constructs.common import (
    ExternalBasicAuth,
    Protocol,
    SecretKeyRef,
)
from vaultaio_constructs.component import Component
from vaultaio_constructs.grafana import provisioning
from vaultaio_constructs.grafana.dashboards import (
    BUILTIN_PRIMARY_DATASOURCE,
    DatasourceUid,
    GrafanaDashboard,
    builtin_dashboards,
)
from vaultaio_constructs.grafana.database import (
    DATABASE_SECRETS_DIR,
    ExternalDatabase,
)
from vaultaio_constructs.grafana.props import (
    GrafanaDashboardSidecarProps,
    GrafanaIngressProps,
    GrafanaProps,
)
from vaultaio_constructs.loki.construct import LokiApi
from vaultaio_constructs.placement import Area, refuse_disabled
from vaultaio_constructs.prometheus.construct import PrometheusApi
from vaultaio_constructs.scrape import ScrapeTarget
from vaultaio_constructs.tempo.construct import TempoApi
from vaultaio_constructs.wiring import Scheme, Target
from vaultaio_constructs.workload import (
    CONFIG_CHECKSUM_ANNOTATION,
    ClientFiles,
    anti_affinity,
    client_files,
    config_checksum,
    config_map,
    container,
    empty_dir,
    env_from_field,
    http_probe,
    ingress,
    mount,
    pod_disruption_budget,
    pod_security_context,
    pod_template,
    secret_volume,
    service,
    service_account,
    stateful_set,
    storage_claim,
    zone_spread,
)

#: UID of the Grafana process: a high UID no host user has. The official image supports any UID (its
#: Dockerfile makes the data, plugins and provisioning paths mode 777); the group stays 472, which owns
#: the data volume. Earlier releases ran as 472 (``fsGroupChangePolicy: Always`` keeps their files
#: readable).
GRAFANA_UID: Final = 10472
GRAFANA_GID: Final = 472
#: Prefix of the dashboard ConfigMaps (``grafana-dashboard-vault-overview``).
DASHBOARD_CONFIGMAP_PREFIX: Final = "grafana-dashboard-"
CONFIG_CONFIGMAP: Final = "grafana-config"
PROVISIONING_CONFIGMAP: Final = "grafana-provisioning"
#: Grafana's health endpoint (database reachable, migrations done).
HEALTH_PATH: Final = "/api/health"
#: ``root_url`` when there is no Ingress: the specification's port-forward.
PORT_FORWARD_ROOT_URL: Final = f"http://localhost:{provisioning.HTTP_PORT}/"
#: Alerting HA gossip port (TCP and UDP), Grafana's ``ha_listen_address`` default port.
ALERTING_HA_PORT: Final = 9094
#: Headless Service of several replicas: gossip peers and per-pod scraping.
PEERS_SERVICE_NAME: Final = "grafana-internal"
#: Environment variable holding the pod's IP, the address the alerting cluster listens on and advertises.
POD_IP_ENV: Final = "POD_IP"
#: Where the ``secret_key`` Secret is mounted.
SECRET_KEY_DIR: Final = "/etc/grafana/secret-key"
#: Where an external Loki's Secrets (basic-auth password, CA bundle) are mounted (``<dir>/<secret>/<key>``);
#: the Loki data source reads them with ``$__file{}`` when Grafana provisions it.
LOKI_SECRETS_DIR: Final = "/etc/grafana/loki"
#: Where an external Prometheus' Secrets (basic-auth password, CA bundle) are mounted, the same way.
PROMETHEUS_SECRETS_DIR: Final = "/etc/grafana/prometheus"


class Grafana(Component):
    """Grafana with data sources for Prometheus, Loki, Tempo and Alertmanager and the stack's dashboards.

    Connect the stores with ``use_prometheus`` / ``use_loki`` / ``use_tempo`` / ``use_alertmanager`` (each
    records the NetworkPolicy edge and supplies the data source URL) and add dashboards with
    :meth:`add_dashboard`; everything is rendered in :meth:`finalize`.
    """

    area = Area.MONITORING

    def __init__(self, scope: Construct, id: str, props: GrafanaProps | None = None) -> None:
        """Create Grafana (StatefulSet, provisioned data sources and dashboards) in ``scope`` (a
        :class:`~vaultaio_constructs.component.StackChart`, or a construct inside one) from ``props``
        (default: every setting at its default, see ``docs/SETTINGS.md``); ``id`` is the construct id. Add
        data sources with the ``use_*`` methods and dashboards with :meth:`add_dashboard`."""
        props = props or GrafanaProps()
        refuse_disabled("grafana", props.enabled)
        super().__init__(
            scope,
            id,
            name="grafana",
            role="dashboards",
            workload=props,
        )
        self.resources = self.resolve_resources(props.resources)
        self.storage_gib = self.resolve_storage_gib(props.storage_gib)
        self.admin_secret_name = props.admin_secret_name
        self.database = props.database
        self.replicas = props.replicas
        self.secret_key = props.secret_key
        self._tempo_service_graph = props.tempo_service_graph
        self._tempo: TempoApi | None = None
        self._prometheus_version: str | None = None
        self._prometheus_basic_auth: ExternalBasicAuth | None = None
        self._prometheus_ca: SecretKeyRef | None = None
        self._loki_tenant_id: str | None = None
        self._loki_basic_auth: ExternalBasicAuth | None = None
        self._loki_ca: SecretKeyRef | None = None
        self.root_url = props.root_url or (
            f"https://{props.ingress.host}/" if props.ingress is not None else PORT_FORWARD_ROOT_URL
        )
        self.home_dashboard = props.home_dashboard or ("vault-overview" if props.builtin_dashboards else None)
        self.dashboard_sidecar = props.dashboard_sidecar
        self.http = self.endpoint(port_name="http", port=provisioning.HTTP_PORT)
        #: The same port on each pod of several replicas (headless ``grafana-internal``: scraping).
        self.peer_http = self.endpoint(
            port_name="http", port=provisioning.HTTP_PORT, service=PEERS_SERVICE_NAME, per_pod=True
        )
        #: Alerting HA gossip between replicas (TCP and UDP).
        self.alerting_mesh = tuple(
            self.endpoint(
                port_name=f"mesh-{protocol.lower()}",
                port=ALERTING_HA_PORT,
                scheme=Scheme.TCP,
                protocol=protocol,
                service=PEERS_SERVICE_NAME,
                per_pod=True,
            )
            for protocol in (Protocol.TCP, Protocol.UDP)
        )
        self._sources: dict[str, Target] = {}
        self._dashboards: dict[str, GrafanaDashboard] = {}
        self._builtin: set[str] = set()
        self._finalized = False

        service_account(self)
        service(self, [self.http])
        if self.ha:
            service(
                self,
                [self.peer_http, *self.alerting_mesh],
                name=PEERS_SERVICE_NAME,
                headless=True,
                publish_not_ready=True,
            )
            for mesh in self.alerting_mesh:
                self.connect(mesh, reason="alerting HA gossip: deduplicated notifications, shared silences")
            pod_disruption_budget(self, max_unavailable=1)
        if isinstance(self.database, ExternalDatabase):
            self.connect_external(self.database.endpoint(), reason=f"{self.database.type} database")
        self.ingress = self._ingress(props.ingress) if props.ingress is not None else None
        if props.builtin_dashboards:
            for dashboard in builtin_dashboards():
                self.add_dashboard(dashboard)
                self._builtin.add(dashboard.name)

    # -- wiring ---------------------------------------------------------------------------------
    def use_prometheus(self, prometheus: PrometheusApi) -> None:
        """Query metrics from ``prometheus`` (the default data source; the stack's or an external one)."""
        self._use("prometheus", prometheus.query_endpoint, reason="query metrics")
        self._prometheus_version = prometheus.version
        self._prometheus_basic_auth = prometheus.basic_auth
        self._prometheus_ca = prometheus.ca

    def use_loki(self, loki: LokiApi) -> None:
        """Query logs from ``loki`` (in its tenant, if it has one)."""
        self._use("loki", loki.query_endpoint, reason="query logs")
        self._loki_tenant_id = loki.tenant_id
        self._loki_basic_auth = loki.basic_auth
        self._loki_ca = loki.ca

    @property
    def loki_client(self) -> ClientFiles:
        """The Loki data source's credentials (password, CA) as files in Grafana's namespace, read-only;
        the Secrets must exist there (they are namespaced)."""
        return client_files("loki-secret", LOKI_SECRETS_DIR, self._loki_basic_auth, self._loki_ca)

    @property
    def prometheus_client(self) -> ClientFiles:
        """The Prometheus data source's credentials (password, CA), the same way."""
        return client_files(
            "prometheus-secret", PROMETHEUS_SECRETS_DIR, self._prometheus_basic_auth, self._prometheus_ca
        )

    def use_tempo(self, tempo: TempoApi) -> None:
        """Query traces from ``tempo`` (and show its service map when it writes metrics)."""
        self._use("tempo", tempo.query_endpoint, reason="query traces")
        self._tempo = tempo

    def use_alertmanager(self, alertmanager: AlertmanagerApi) -> None:
        """Show alerts and manage silences in ``alertmanager``."""
        self._use("alertmanager", alertmanager.web, reason="show and silence alerts")

    def _use(self, kind: str, endpoint: Target, *, reason: str) -> None:
        self._check_open(f"use_{kind}")
        if kind in self._sources:
            raise ValueError(f"grafana already has a {kind} data source ({self._sources[kind].url})")
        self._sources[kind] = self.connect(endpoint, reason=reason)

    @property
    def tempo_service_graph(self) -> bool:
        """Whether the Tempo data source shows the service map (resolved from the setting and wiring)."""
        if self._tempo_service_graph is not None:
            return self._tempo_service_graph
        return self._tempo is not None and self._tempo.writes_metrics

    @property
    def ha(self) -> bool:
        """More than one replica (an external database and the alerting HA cluster)."""
        return self.replicas > 1

    @property
    def metrics_target(self) -> ScrapeTarget:
        """Every replica (DNS discovery of the headless Service when there are several)."""
        return ScrapeTarget(job="grafana", endpoint=self.peer_http if self.ha else self.http)

    # -- dashboards -----------------------------------------------------------------------------
    @property
    def dashboards(self) -> tuple[GrafanaDashboard, ...]:
        """The dashboards to provision, in the order they were added: every added one, and the built-in
        ones whose data sources Grafana has (final once the stack is finished)."""
        sources = {str(DatasourceUid(kind)) for kind in self._sources}
        if sources >= {str(uid) for uid in DatasourceUid}:
            return tuple(self._dashboards.values())  # every data source: nothing to leave out (no parsing)
        kept = []
        for dashboard in self._dashboards.values():
            if dashboard.name in self._builtin:
                if str(BUILTIN_PRIMARY_DATASOURCE[dashboard.name]) not in sources:
                    continue
                restricted = dashboard.restricted_to(sources)
                if restricted is None:
                    continue
                dashboard = restricted
            kept.append(dashboard)
        return tuple(kept)

    def add_dashboard(self, dashboard: GrafanaDashboard) -> GrafanaDashboard:
        """Provision ``dashboard`` from its own ConfigMap; refuses a second dashboard with the same name
        or UID (either would overwrite the first in Grafana)."""
        self._check_open(f"add_dashboard({dashboard.name!r})")
        if dashboard.name in self._dashboards:
            raise ValueError(f"grafana already has a dashboard named {dashboard.name!r}: choose another name")
        for existing in self._dashboards.values():
            if existing.uid == dashboard.uid:
                raise ValueError(
                    f"dashboard {dashboard.name!r} has uid {dashboard.uid!r}, "
                    f"already used by {existing.name!r}"
                )
        self._dashboards[dashboard.name] = dashboard
        return dashboard

    def _check_open(self, action: str) -> None:
        if self._finalized:
            raise RuntimeError(
                f"{action} after the stack was finished: the Grafana objects are already rendered"
            )

    # -- rendering ------------------------------------------------------------------------------
    def finalize(self) -> None:
        """Render configuration, provisioning, dashboards and the StatefulSet from the final wiring."""
        self._finalized = True
        loki, prometheus = self.loki_client, self.prometheus_client
        urls = provisioning.DatasourceUrls(
            prometheus=self._url("prometheus"),
            loki=self._url("loki"),
            tempo=self._url("tempo"),
            alertmanager=self._url("alertmanager"),
            loki_tenant_id=self._loki_tenant_id,
            loki_basic_auth_user=loki.username,
            loki_basic_auth_password_file=loki.password_file,
            loki_ca_file=loki.ca_file,
            prometheus_basic_auth_user=prometheus.username,
            prometheus_basic_auth_password_file=prometheus.password_file,
            prometheus_ca_file=prometheus.ca_file,
        )
        dashboards = {d.name: d for d in self.dashboards}
        home = None
        if self.home_dashboard is not None:
            home = dashboards.get(self.home_dashboard)
            if home is None:
                raise ValueError(
                    f"'home_dashboard' ({self.home_dashboard!r}) is not a dashboard of this grafana: "
                    f"use one of {list(dashboards)} or None"
                )
        sections = provisioning.grafana_ini(
            root_url=self.root_url,
            secret_key_file=f"{SECRET_KEY_DIR}/{self.secret_key.key}" if self.secret_key else None,
            home_dashboard_path=f"{provisioning.DASHBOARDS_DIR}/{home.file_name}" if home else None,
        )
        if isinstance(self.database, ExternalDatabase):
            sections["database"] = self.database.ini_section()
        if self.ha:
            # Grafana resolves the headless Service to every replica's address (memberlist join)
            address = f"$__env{{{POD_IP_ENV}}}:{ALERTING_HA_PORT}"
            sections["unified_alerting"] = {
                "ha_peers": f"{self.alerting_mesh[0].fqdn}:{ALERTING_HA_PORT}",
                "ha_listen_address": address,
                "ha_advertise_address": address,
            }
        ini = provisioning.render_ini(sections)
        datasources = provisioning.render_datasources(
            urls, tempo_service_graph=self.tempo_service_graph, prometheus_version=self._prometheus_version
        )
        providers = provisioning.render_dashboard_providers()
        config_map(self, CONFIG_CONFIGMAP, {"grafana.ini": ini})
        config_map(
            self,
            PROVISIONING_CONFIGMAP,
            {provisioning.DATASOURCES_FILE: datasources, provisioning.DASHBOARD_PROVIDERS_FILE: providers},
        )
        sidecar = self.dashboard_sidecar
        for dashboard in dashboards.values():
            self.track(
                kube.KubeConfigMap(
                    self,
                    f"Dashboard-{dashboard.name}",
                    metadata=self.meta(
                        DASHBOARD_CONFIGMAP_PREFIX + dashboard.name,
                        labels={sidecar.label_key: sidecar.label_value},
                        annotations={sidecar.folder_annotation: sidecar.folder},
                    ),
                    data={dashboard.file_name: dashboard.json},
                ),
                Area.DASHBOARDS,
            )
        checksum = config_checksum(ini, datasources, providers)
        stateful_set(
            self,
            template=self._pod_template(checksum, tuple(dashboards.values())),
            # an external database holds the state: nothing on the pods outlives them
            claims=[] if self.database.external else [storage_claim(self, "data", self.storage_gib)],
            service_name=self.http.service,
            replicas=self.replicas,
            pod_management_policy="Parallel" if self.ha else "OrderedReady",
        )

    def _url(self, kind: str) -> str | None:
        endpoint = self._sources.get(kind)
        return endpoint.url if endpoint is not None else None

    def _pod_template(self, checksum: str, dashboards: tuple[GrafanaDashboard, ...]) -> k8s.PodTemplateSpec:
        admin_keys = {key: key for key in (provisioning.ADMIN_USER_KEY, provisioning.ADMIN_PASSWORD_KEY)}
        volumes = [
            k8s.Volume(name="config", config_map=k8s.ConfigMapVolumeSource(name=CONFIG_CONFIGMAP)),
            k8s.Volume(
                name="datasources",
                config_map=k8s.ConfigMapVolumeSource(
                    name=PROVISIONING_CONFIGMAP,
                    items=[
                        k8s.KeyToPath(key=provisioning.DATASOURCES_FILE, path=provisioning.DATASOURCES_FILE)
                    ],
                ),
            ),
            k8s.Volume(
                name="dashboard-providers",
                config_map=k8s.ConfigMapVolumeSource(
                    name=PROVISIONING_CONFIGMAP,
                    items=[
                        k8s.KeyToPath(
                            key=provisioning.DASHBOARD_PROVIDERS_FILE,
                            path=provisioning.DASHBOARD_PROVIDERS_FILE,
                        )
                    ],
                ),
            ),
            k8s.Volume(
                name="dashboards",
                projected=k8s.ProjectedVolumeSource(
                    sources=[
                        k8s.VolumeProjection(
                            config_map=k8s.ConfigMapProjection(
                                name=DASHBOARD_CONFIGMAP_PREFIX + d.name,
                                items=[k8s.KeyToPath(key=d.file_name, path=d.file_name)],
                            )
                        )
                        for d in dashboards
                    ]
                ),
            ),
            secret_volume("admin", self.admin_secret_name, admin_keys),
            empty_dir("tmp", size_mib=64),
        ]
        database_secrets: dict[str, set[str]] = {}
        if isinstance(self.database, ExternalDatabase):
            # no PVC: the data directory is scratch space (temporary files, logs of a file log mode)
            volumes.append(empty_dir("data", size_mib=1024))
            for ref in self.database.secrets():
                database_secrets.setdefault(ref.name, set()).add(ref.key)
            volumes += [
                secret_volume(f"database-{name}"[:63].rstrip("-"), name, {k: k for k in sorted(keys)})
                for name, keys in sorted(database_secrets.items())
            ]
        if self.secret_key is not None:
            volumes.append(
                secret_volume("secret-key", self.secret_key.name, {self.secret_key.key: self.secret_key.key})
            )
        if not dashboards:
            volumes = [v for v in volumes if v.name != "dashboards"]
        mounts = [
            mount("data", provisioning.DATA_DIR),
            mount("config", provisioning.CONFIG_FILE, read_only=True, sub_path="grafana.ini"),
            mount("datasources", f"{provisioning.PROVISIONING_DIR}/datasources", read_only=True),
            mount("dashboard-providers", f"{provisioning.PROVISIONING_DIR}/dashboards", read_only=True),
            mount("admin", provisioning.ADMIN_SECRET_DIR, read_only=True),
            mount("tmp", "/tmp"),
        ]
        if dashboards:
            mounts.append(mount("dashboards", provisioning.DASHBOARDS_DIR, read_only=True))
        mounts += [
            mount(f"database-{name}"[:63].rstrip("-"), f"{DATABASE_SECRETS_DIR}/{name}", read_only=True)
            for name in sorted(database_secrets)
        ]
        if self.secret_key is not None:
            mounts.append(mount("secret-key", SECRET_KEY_DIR, read_only=True))
        for client in (self.loki_client, self.prometheus_client):
            volumes += client.files.volumes
            mounts += client.files.mounts
        # The image sets GF_PATHS_* itself; repeat them so grafana.ini and the environment agree.
        env = [
            k8s.EnvVar(name="GF_PATHS_CONFIG", value=provisioning.CONFIG_FILE),
            k8s.EnvVar(name="GF_PATHS_DATA", value=provisioning.DATA_DIR),
            k8s.EnvVar(name="GF_PATHS_LOGS", value=f"{provisioning.DATA_DIR}/log"),
            k8s.EnvVar(name="GF_PATHS_PLUGINS", value=f"{provisioning.DATA_DIR}/plugins"),
            k8s.EnvVar(name="GF_PATHS_PROVISIONING", value=provisioning.PROVISIONING_DIR),
            *([env_from_field(POD_IP_ENV, "status.podIP")] if self.ha else []),
        ]
        grafana = container(
            name="grafana",
            image=self.image,
            resources=self.resources,
            ports=[self.http, *(self.alerting_mesh if self.ha else ())],
            env=env,
            volume_mounts=mounts,
            readiness=http_probe(HEALTH_PATH, self.http.port_name, period_seconds=10),
            liveness=http_probe(HEALTH_PATH, self.http.port_name, period_seconds=20, failure_threshold=6),
            startup=http_probe(HEALTH_PATH, self.http.port_name, period_seconds=5, failure_threshold=60),
        )
        return pod_template(
            self,
            containers=[grafana],
            security_context=pod_security_context(
                user=GRAFANA_UID, group=GRAFANA_GID, fs_group=GRAFANA_GID, fs_group_always=True
            ),
            volumes=volumes,
            annotations={CONFIG_CHECKSUM_ANNOTATION: checksum},
            affinity=anti_affinity(self) if self.ha else None,
            topology_spread_constraints=zone_spread(self) if self.ha else (),
        )

    def _ingress(self, props: GrafanaIngressProps) -> k8s.KubeIngress:
        return ingress(
            self,
            self.http,
            host=props.host,
            class_name=props.class_name,
            tls_secret_name=props.tls_secret_name,
            annotations=props.annotations,
            reason=f"Ingress {props.host} routes to the Grafana UI",
        )


__all__ = ["Grafana", "GrafanaDashboardSidecarProps", "GrafanaIngressProps", "GrafanaProps"]
