//! The deploy/ folder, checked without a container engine: the Compose file and the Kubernetes
//! manifest parse as YAML and have the shape operations rely on, and the Dockerfile builds with
//! the command README.md documents.

use std::path::PathBuf;

use serde_json::Value;

fn repo_file(path: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Every document of a YAML file, as JSON values (empty documents skipped).
fn yaml_documents(path: &str) -> Vec<Value> {
    let text = repo_file(path);
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|document| {
            serde::Deserialize::deserialize(document).unwrap_or_else(|err| panic!("{path}: {err}"))
        })
        .filter(|document: &Value| !document.is_null())
        .collect()
}

fn strings(value: &Value) -> Vec<&str> {
    let items = value.as_array().map(Vec::as_slice).unwrap_or_default();
    items.iter().filter_map(Value::as_str).collect()
}

#[test]
fn the_dockerfile_builds_with_the_documented_command() {
    let docs = repo_file("README.md");
    let documented = docs
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("cargo build"))
        .expect("README.md documents a `cargo build` command");
    let dockerfile = repo_file("deploy/Dockerfile");
    let builds: Vec<&str> = dockerfile
        .lines()
        .filter_map(|line| line.trim().strip_prefix("RUN "))
        .filter(|command| command.contains("cargo build"))
        .collect();
    assert_eq!(builds, [documented]);

    // Multi-stage, non-root, the store on a volume.
    assert_eq!(dockerfile.matches("\nFROM ").count(), 2, "two stages");
    assert!(dockerfile.contains("COPY --from=build "));
    assert!(dockerfile.contains("\nUSER 10001:10001\n"));
    assert!(dockerfile.contains("VOLUME [\"/var/lib/hookseal\"]"));
}

#[test]
fn the_compose_file_runs_calcom_postgres_and_hookseal_on_one_database_server() {
    let compose = &yaml_documents("deploy/docker-compose.yml")[0];
    let services = &compose["services"];
    for name in ["postgres", "calcom", "hookseal"] {
        assert!(services[name].is_object(), "service {name}");
    }
    assert!(services["calcom"]["image"]
        .as_str()
        .unwrap()
        .contains("calcom/cal.com"));

    let hookseal = &services["hookseal"];
    assert_eq!(hookseal["user"], "10001:10001", "non-root");
    assert_eq!(hookseal["read_only"], true);
    assert_eq!(hookseal["build"]["dockerfile"], "deploy/Dockerfile");
    let secrets = strings(&hookseal["secrets"]);
    for secret in [
        "hookseal_database_url",
        "calcom_webhook_secret",
        "hookseal_admin_token",
    ] {
        assert!(secrets.contains(&secret), "hookseal gets {secret}");
        assert!(compose["secrets"][secret]["file"].is_string());
    }
    let health = strings(&hookseal["healthcheck"]["test"]).join(" ");
    assert!(health.contains("/dev/tcp/127.0.0.1/9090") && health.contains("/readyz"));

    // hookseal's store is the same PostgreSQL server, and cal.com's webhook points at it.
    let config = repo_file("deploy/hookseal-compose.toml");
    assert!(config.contains("kind = \"postgres\""));
    let mounts = strings(&hookseal["volumes"]);
    assert!(mounts.contains(&"./hookseal-compose.toml:/etc/hookseal/hookseal.toml:ro"));
    let calcom_db = services["calcom"]["environment"]["DATABASE_URL"]
        .as_str()
        .unwrap();
    assert!(calcom_db.contains("@postgres:5432/"));
    let depends = &services["hookseal"]["depends_on"]["postgres"]["condition"];
    assert_eq!(depends, "service_healthy");
    let webhook = &compose["x-calcom-webhook"]["subscriber_url"];
    assert_eq!(webhook, "http://hookseal:8080/hooks/crm");
    assert!(config.contains("path = \"/hooks/crm\""));
}

#[test]
fn the_kubernetes_manifest_runs_hookseal_as_a_probed_non_root_sidecar() {
    let documents = yaml_documents("deploy/kubernetes.yaml");
    let kind = |kind: &str| {
        let found = documents.iter().find(|document| document["kind"] == kind);
        found.unwrap_or_else(|| panic!("a {kind}"))
    };

    // The ConfigMap holds exactly deploy/hookseal-kubernetes.toml.
    let config = kind("ConfigMap")["data"]["hookseal.toml"].as_str().unwrap();
    assert_eq!(config, repo_file("deploy/hookseal-kubernetes.toml"));
    assert!(
        config.contains("listen = \"0.0.0.0:9090\""),
        "admin reachable by the kubelet"
    );
    assert!(
        config.contains("token_file = "),
        "delivery API behind its token"
    );

    let pod = &kind("Deployment")["spec"]["template"]["spec"];
    let all: Vec<&Value> = ["initContainers", "containers"]
        .iter()
        .filter_map(|list| pod[*list].as_array())
        .flatten()
        .collect();
    let calcom = all
        .iter()
        .find(|container| container["name"] == "calcom")
        .unwrap();
    assert!(calcom["image"].as_str().unwrap().contains("calcom/cal.com"));
    let hookseal = all
        .iter()
        .find(|container| container["name"] == "hookseal")
        .unwrap();
    assert_eq!(hookseal["restartPolicy"], "Always", "a native sidecar");

    let security = &hookseal["securityContext"];
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(security["runAsUser"], 10001);
    assert_eq!(security["allowPrivilegeEscalation"], false);

    // Probes on the admin port: liveness on /healthz, readiness on /readyz.
    let admin_port = hookseal["ports"].as_array().unwrap().iter();
    let admin_port = admin_port
        .clone()
        .find(|port| port["name"] == "admin")
        .unwrap();
    assert_eq!(admin_port["containerPort"], 9090);
    assert_eq!(hookseal["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(hookseal["livenessProbe"]["httpGet"]["port"], "admin");
    assert_eq!(hookseal["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(hookseal["readinessProbe"]["httpGet"]["port"], "admin");

    // Config from the ConfigMap, secrets from the Secret, both mounted as files where the
    // config and the command line look for them.
    let volume = |name: &str| {
        let volumes = pod["volumes"].as_array().unwrap();
        volumes
            .iter()
            .find(|volume| volume["name"] == name)
            .unwrap()
            .clone()
    };
    let mount = |name: &str| {
        let mounts = hookseal["volumeMounts"].as_array().unwrap();
        let found = mounts.iter().find(|mount| mount["name"] == name).unwrap();
        found["mountPath"].as_str().unwrap().to_owned()
    };
    assert_eq!(
        volume("hookseal-config")["configMap"]["name"],
        "hookseal-config"
    );
    assert_eq!(
        volume("hookseal-secrets")["secret"]["secretName"],
        "hookseal-secrets"
    );
    let config_path = format!("{}/hookseal.toml", mount("hookseal-config"));
    assert!(strings(&hookseal["args"]).contains(&config_path.as_str()));
    let secrets_dir = mount("hookseal-secrets");
    let secret = kind("Secret");
    for key in ["calcom-webhook-secret", "admin-token", "database-url"] {
        assert!(secret["stringData"][key].is_string(), "Secret has {key}");
        assert!(
            config.contains(&format!("\"{secrets_dir}/{key}\"")),
            "config reads {key}"
        );
    }

    // cal.com's webhook points at the sidecar.
    let annotations = &kind("Deployment")["metadata"]["annotations"];
    let webhook = annotations["hookseal/calcom-webhook-url"].as_str().unwrap();
    assert_eq!(webhook, "http://localhost:8080/hooks/crm");
}

#[test]
fn the_systemd_unit_is_hardened_and_uses_the_shipped_config() {
    let unit = repo_file("deploy/hookseal.service");
    for line in [
        "DynamicUser=yes",
        "StateDirectory=hookseal",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "ExecStart=/usr/local/bin/hookseal serve --config /etc/hookseal/hookseal.toml",
    ] {
        assert!(unit.lines().any(|have| have == line), "unit lacks {line}");
    }
    let config = repo_file("deploy/hookseal.toml");
    for credential in unit
        .lines()
        .filter_map(|line| line.strip_prefix("LoadCredential="))
    {
        let (name, _source) = credential.split_once(':').unwrap();
        let path = format!("/run/credentials/hookseal.service/{name}");
        assert!(config.contains(&path), "deploy/hookseal.toml reads {path}");
    }
}
