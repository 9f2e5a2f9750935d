//! Tests of the byte-preserving object edits.

use serde_json::json;

use super::*;

fn edited(text: &str, edit: impl FnOnce(&Object<'_>, &mut Edits)) -> String {
    let object = Object::parse(text).expect("test text is an object");
    let mut edits = Edits::default();
    edit(&object, &mut edits);
    String::from_utf8(edits.apply(text.as_bytes())).expect("edits keep utf-8")
}

#[test]
fn adds_members_after_existing_ones() {
    let value = json!("v");
    let out = edited(r#"{ "a" : 1 ,"b":[2] }"#, |o, e| {
        e.add_members(o, [("c", &value)])
    });
    assert_eq!(out, r#"{ "a" : 1 ,"b":[2] ,"c":"v"}"#);
}

#[test]
fn adds_to_an_empty_object_without_comma() {
    let one = json!(1);
    let out = edited("{ }", |o, e| e.add_members(o, [("a", &one), ("b", &one)]));
    assert_eq!(out, r#"{ "a":1,"b":1}"#);
}

#[test]
fn a_second_batch_continues_the_first() {
    let one = json!(1);
    let out = edited("{}", |o, e| {
        e.add_members(o, [("a", &one)]);
        e.add_members(o, [("b", &one)]);
    });
    assert_eq!(out, r#"{"a":1,"b":1}"#);
}

#[test]
fn an_empty_batch_changes_nothing() {
    let object = Object::parse("{}").expect("object");
    let mut edits = Edits::default();
    edits.add_members(&object, []);
    assert!(edits.is_empty());
}

#[test]
fn edits_a_nested_object_in_place() {
    let text = r#"{"p":{"m":{"x":"1"},"n":null},"q":2}"#;
    let value = json!({"k": "é\"\n"});
    let out = edited(text, |root, e| {
        let p = root.object("p").expect("p is an object");
        let m = p.object("m").expect("m is an object");
        e.add_members(&m, [("y", &json!("2"))]);
        e.replace(p.value_span("n").expect("n"), &value);
        e.add_members(&p, [("z", &json!(true))]);
    });
    assert_eq!(
        out,
        r#"{"p":{"m":{"x":"1","y":"2"},"n":{"k":"é\"\n"},"z":true},"q":2}"#
    );
}

#[test]
fn the_last_duplicate_wins() {
    let text = r#"{"a":{"x":1},"a":{"y":2}}"#;
    let object = Object::parse(text).expect("object");
    let a = object.object("a").expect("a");
    assert_eq!(a.keys().collect::<Vec<_>>(), ["y"]);
    assert_eq!(&text[object.value_span("a").expect("a")], r#"{"y":2}"#);
}

#[test]
fn spans_ignore_surrounding_whitespace() {
    let text = " \n{\"a\": {} }\r\n";
    let object = Object::parse(text).expect("object");
    assert_eq!(&text[object.span()], "{\"a\": {} }");
    assert_eq!(object.object("a").expect("a").span(), 8..10);
}

#[test]
fn a_non_object_member_is_not_an_object() {
    let object = Object::parse(r#"{"a":[1],"b":"{}","c":null}"#).expect("object");
    assert!(object.object("a").is_none());
    assert!(object.object("b").is_none());
    assert!(object.object("c").is_none());
    assert!(object.object("d").is_none());
}

#[test]
fn refuses_what_is_not_one_object() {
    for text in [
        "",
        "false",
        "[]",
        "{",
        "{}{}",
        r#"{"a":1,}"#,
        "{\"a\":\"\u{0}\"}",
    ] {
        assert!(Object::parse(text).is_err(), "{text:?}");
    }
}

#[test]
fn refuses_deep_nesting_without_overflowing() {
    let open = "[".repeat(100_000);
    assert!(Object::parse(&open).is_err());

    let closed = format!(r#"{{"a":{}{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
    assert!(Object::parse(&closed).is_err());

    let objects = format!(r#"{}{}"#, r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
    assert!(Object::parse(&objects).is_err());
}

#[test]
fn accepts_nesting_within_the_limit() {
    let text = format!(r#"{{"a":{}{}}}"#, "[".repeat(100), "]".repeat(100));
    assert!(Object::parse(&text).is_ok());
}
