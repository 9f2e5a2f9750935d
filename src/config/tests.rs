use super::*;

const MINIMAL: &str = "[server]\nlisten = \"127.0.0.1:8080\"\n";

#[test]
fn syntax_errors_name_file_line_and_key_but_never_quote_the_value() {
    let text = format!("{MINIMAL}\n[admin]\ntoken = \"hunter2-secret\" trailing\n");
    let err = Config::parse(&text, Path::new("/etc/hookseal.toml")).unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.starts_with("/etc/hookseal.toml: line 5"),
        "{message}"
    );
    assert!(message.contains("key `token`"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

#[test]
fn type_errors_name_the_key() {
    let text = format!("{MINIMAL}max_body_bytes = \"big\"\n");
    let err = Config::parse(&text, Path::new("h.toml")).unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("line 3"), "{message}");
    assert!(message.contains("key `max_body_bytes`"), "{message}");
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
