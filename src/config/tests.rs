use std::path::Path;

use super::*;

/// The config a user writes, as the README shows it: accepted as it stands.
const README_CONFIG: &str = r#"
[server]
listen = "0.0.0.0:8080"

[store]
kind = "sqlite"              # the embedded default
path = "data/hookseal.db"

[[routes]]
name = "crm"
path = "/hooks/crm"          # cal.com's subscriber URL: http://hookseal:8080/hooks/crm
upstream = "https://crm.example.com/calcom"
delivery = "sync"

[routes.inbound]
calcom_secret = "the secret set on this webhook in cal.com"

[[routes.sign]]
scheme = "standard-webhooks"
secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]

[[routes.sign]]
scheme = "calcom"
secrets = ["the secret the receiver already verifies"]

[routes.enrich]
profile = "calcom"
"#;

fn parse(text: &str) -> anyhow::Result<Config> {
    Config::parse(text, Path::new("test.toml"))
}

fn error(text: &str) -> String {
    format!("{:#}", parse(text).expect_err("config must be refused"))
}

#[test]
fn the_readme_config_is_accepted() {
    let config = parse(README_CONFIG).unwrap();
    let route = config.routes().next().unwrap();
    assert_eq!(route.delivery, DeliveryMode::Sync);
    assert_eq!(route.timeout, DEFAULT_UPSTREAM_TIMEOUT);
    assert_eq!(route.sign.len(), 2);
    assert_eq!(config.store.cache_ttl, DEFAULT_CACHE_TTL);
}

#[test]
fn the_shipped_example_parses() {
    std::env::set_var("CALCOM_WEBHOOK_SECRET", "example-inbound");
    std::env::set_var("RECEIVER_CALCOM_SECRET", "example-receiver");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/hookseal.toml");
    let config = Config::load(&path).unwrap();
    let route = config.routes().next().unwrap();
    assert_eq!(route.delivery, DeliveryMode::Queued);
    assert_eq!(
        route.inbound_secrets().unwrap()[0].expose(),
        "example-inbound"
    );
}

#[test]
fn delivery_defaults_to_queued_with_the_standard_schedule() {
    let config = parse(&README_CONFIG.replace("delivery = \"sync\"", "")).unwrap();
    let route = config.routes().next().unwrap();
    assert_eq!(route.delivery, DeliveryMode::Queued);
    assert_eq!(route.retry_schedule().len(), 10);
    assert_eq!(route.retry_schedule()[9], Duration::from_secs(86_400));
}

#[test]
fn unknown_keys_are_refused_with_their_line() {
    let message =
        error(&README_CONFIG.replace("delivery = \"sync\"", "delivery = \"sync\"\nretries = 3"));
    assert!(message.contains("retries"), "{message}");
    assert!(message.contains("line 14"), "{message}");
    assert!(message.contains("test.toml"), "{message}");
}

#[test]
fn a_route_that_authenticates_nobody_is_refused() {
    let text = README_CONFIG.replace(
        "calcom_secret = \"the secret set on this webhook in cal.com\"",
        "",
    );
    let message = error(&text);
    assert!(message.contains("signing oracle"), "{message}");
    assert!(message.contains("\"crm\" (line"), "{message}");
}

#[test]
fn allow_unsigned_from_alone_authenticates() {
    let text = README_CONFIG.replace(
        "calcom_secret = \"the secret set on this webhook in cal.com\"",
        "allow_unsigned_from = [\"10.0.0.0/8\", \"fd00::/8\"]",
    );
    assert!(parse(&text).is_ok());
    let bad = text.replace("10.0.0.0/8", "10.0.0.0/33");
    assert!(error(&bad).contains("allow_unsigned_from"));
}

#[test]
fn secrets_may_be_a_list_or_come_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calcom");
    std::fs::write(&file, "from-a-file\n").unwrap();
    let text = README_CONFIG.replace(
        "calcom_secret = \"the secret set on this webhook in cal.com\"",
        &format!(
            "calcom_secret = [\"old\", \"new\"]\ncalcom_secret_file = {:?}",
            file.display().to_string()
        ),
    );
    let config = parse(&text).unwrap();
    let secrets = config.routes().next().unwrap().inbound_secrets().unwrap();
    let values: Vec<_> = secrets.iter().map(Secret::expose).collect();
    assert_eq!(values, ["old", "new", "from-a-file"]);

    let missing = text.replace(&file.display().to_string(), "/nonexistent/secret");
    assert!(error(&missing).contains("/nonexistent/secret"));
}

#[test]
fn unset_environment_variables_are_named() {
    let text = README_CONFIG.replace(
        "the secret set on this webhook in cal.com",
        "${HOOKSEAL_TEST_SURELY_UNSET}",
    );
    let message = error(&text);
    assert!(message.contains("HOOKSEAL_TEST_SURELY_UNSET"), "{message}");
    assert!(message.contains("line 16"), "{message}");
}

#[test]
fn errors_never_show_secret_values() {
    let text = README_CONFIG.replace(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "whsec_!!not-base64-secret!!",
    );
    let message = error(&text);
    assert!(message.contains("[[routes.sign]] entry 1"), "{message}");
    assert!(!message.contains("not-base64-secret"), "{message}");
    let debug = format!("{:?}", parse(README_CONFIG).unwrap());
    assert!(
        !debug.contains("the secret set on this webhook"),
        "Debug leaks a secret"
    );
}

#[test]
fn duplicate_routes_and_bad_upstreams_are_refused() {
    let twice = format!(
        "{README_CONFIG}\n{}",
        &README_CONFIG[README_CONFIG.find("[[routes]]").unwrap()..]
    );
    assert!(error(&twice).contains("used by another route"));
    let ftp = README_CONFIG.replace("https://crm.example.com/calcom", "ftp://crm.example.com/");
    assert!(error(&ftp).contains("`upstream`"));
    let short = README_CONFIG.replace(
        "delivery = \"sync\"",
        "delivery = \"sync\"\nrepeat_window = \"1m\"",
    );
    assert!(error(&short).contains("repeat_window"));
}

#[test]
fn expand_env_handles_literals_and_unclosed_braces() {
    assert_eq!(expand_env("a$$b$c").unwrap(), "a$b$c");
    assert!(expand_env("${OPEN").is_err());
}

#[test]
fn syntax_errors_name_file_line_and_key_but_never_quote_the_value() {
    let text = README_CONFIG.replace(
        "calcom_secret = \"the secret set on this webhook in cal.com\"",
        "calcom_secret = \"hunter2-secret\" trailing",
    );
    let message = format!(
        "{:#}",
        Config::parse(&text, Path::new("/etc/h.toml")).unwrap_err()
    );
    assert!(message.starts_with("/etc/h.toml: line 16"), "{message}");
    assert!(message.contains("key `calcom_secret`"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

#[test]
fn type_errors_name_the_key() {
    let text = README_CONFIG.replace("listen = \"0.0.0.0:8080\"", "listen = 8080");
    let message = error(&text);
    assert!(message.contains("line 3"), "{message}");
    assert!(message.contains("key `listen`"), "{message}");
}

#[test]
fn the_shipped_deploy_configs_parse() {
    for name in [
        "hookseal.toml",
        "hookseal-compose.toml",
        "hookseal-kubernetes.toml",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("deploy")
            .join(name);
        let text = std::fs::read_to_string(&path).expect("deploy config exists");
        // Secrets come from files that exist only where the config is deployed, so only the
        // parse is checked here, not `validate`.
        let config: Config = toml::from_str(&text).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert!(config.admin.is_some(), "{name} enables the admin listener");
        assert!(!config.routes.is_empty(), "{name} has a route");
    }
}

#[test]
fn a_secret_of_the_wrong_type_is_not_quoted() {
    let as_string = README_CONFIG.replace(
        "secrets = [\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]",
        "secrets = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"",
    );
    let message = error(&as_string);
    assert!(
        message.contains("key `secrets`") && message.contains("expected a sequence"),
        "{message}"
    );
    assert!(!message.contains("MfKQ9r8"), "{message}");
    let as_number = README_CONFIG.replace(
        "calcom_secret = \"the secret set on this webhook in cal.com\"",
        "calcom_secret = 8675309123",
    );
    assert!(!error(&as_number).contains("8675309123"));
}

#[test]
fn route_errors_name_the_line_of_the_route() {
    let text = README_CONFIG.replace(
        "calcom_secret = \"the secret set on this webhook in cal.com\"",
        "",
    );
    let line = text.lines().position(|line| line == "[[routes]]").unwrap() + 1;
    let message = error(&text);
    assert!(
        message.contains(&format!("(line {line})")),
        "line {line}: {message}"
    );
}

#[test]
fn fixed_headers_cannot_frame_forge_or_shadow() {
    let with = |headers: &str| {
        README_CONFIG.replace(
            "delivery = \"sync\"",
            &format!("delivery = \"sync\"\nheaders = {{ {headers} }}"),
        )
    };
    assert!(parse(&with("\"X-Api-Key\" = \"k\"")).is_ok());
    for reserved in ["Host", "Transfer-Encoding", "Content-Length", "Connection"] {
        let message = error(&with(&format!("\"{reserved}\" = \"x\"")));
        assert!(
            message.contains("set by hookseal itself"),
            "{reserved}: {message}"
        );
    }
    let forged = error(&with("\"webhook-signature\" = \"v1,forged\""));
    assert!(forged.contains("sets header webhook-signature"), "{forged}");
    let bad_value = error(&with("\"X-Api-Key\" = \"a\\nb\""));
    assert!(
        bad_value.contains("not a valid header value"),
        "{bad_value}"
    );
}

#[test]
fn signing_entries_cannot_set_the_same_header_twice() {
    let text = format!(
        "{README_CONFIG}\n[[routes.sign]]\nscheme = \"hmac\"\nheader = \"X-Cal-Signature-256\"\nsecrets = [\"s\"]\n"
    );
    let message = error(&text);
    assert!(
        message.contains("sets header x-cal-signature-256"),
        "{message}"
    );
}

#[test]
fn what_serve_would_refuse_check_refuses_too() {
    let ca = README_CONFIG.replace(
        "delivery = \"sync\"",
        "delivery = \"sync\"\nca_file = \"/nonexistent/ca.pem\"",
    );
    assert!(error(&ca).contains("ca_file"));
    let level = format!("{README_CONFIG}\n[log]\nlevel = \"nonsense[[[\"\n");
    assert!(error(&level).contains("[log] `level`"));
    let same = format!("{README_CONFIG}\n[admin]\nlisten = \"0.0.0.0:8080\"\n");
    assert!(error(&same).contains("same address"));
    let both = format!("{README_CONFIG}\n[admin]\ntoken = \"t\"\ntoken_file = \"/etc/hostname\"\n");
    assert!(error(&both).contains("not both"));
    let url = README_CONFIG.replace(
        "kind = \"sqlite\"",
        "kind = \"postgres\"\nurl = \"not a url:secretpw\"",
    );
    let message = error(&url);
    assert!(
        message.contains("not a PostgreSQL connection URL") && !message.contains("secretpw"),
        "{message}"
    );
}

#[test]
fn settings_that_could_never_work_are_refused() {
    let head = &README_CONFIG[..README_CONFIG.find("[[routes]]").unwrap()];
    assert!(error(head).contains("no [[routes]]"));

    let zero_age = README_CONFIG.replace(
        "delivery = \"sync\"",
        "delivery = \"sync\"\nmax_event_age = \"0s\"",
    );
    assert!(error(&zero_age).contains("`max_event_age` must be at least 1s"));
    let half_second = zero_age.replace("\"0s\"", "\"500ms\"");
    assert!(error(&half_second).contains("`max_event_age` must be at least 1s"));

    let sync_retries = README_CONFIG.replace(
        "delivery = \"sync\"",
        "delivery = \"sync\"\nretry_schedule = [\"1s\"]",
    );
    assert!(error(&sync_retries).contains("`retry_schedule` needs `delivery = \"queued\"`"));
    let queued_retries = sync_retries.replace("delivery = \"sync\"", "delivery = \"queued\"");
    parse(&queued_retries).unwrap();
}

#[test]
fn an_empty_variable_name_is_named_as_such() {
    assert_eq!(
        expand_env("a${}b").unwrap_err(),
        "`${}` names no environment variable"
    );
}
