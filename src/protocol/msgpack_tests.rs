//! Round trips and edge cases of the msgpack DynamicValue codec.

use super::*;

fn schema_type() -> Type {
    Type::object([
        ("id", Type::String),
        ("count", Type::Number),
        ("enabled", Type::Bool),
        ("tags", Type::map(Type::String)),
        ("names", Type::set(Type::String)),
        (
            "nested",
            Type::list(Type::object([
                ("k", Type::String),
                ("v", Type::set(Type::map(Type::Number))),
            ])),
        ),
        ("anything", Type::Dynamic),
    ])
}

fn round_trip(v: &Value, ty: &Type) -> Value {
    let bytes = encode(v, ty).unwrap_or_default();
    decode(&bytes, ty).unwrap_or(Value::String("decode failed".into()))
}

#[test]
fn round_trips_nested_values_with_unknown_and_null() {
    let ty = schema_type();
    let v = Value::object([
        ("id", Value::Unknown),
        ("count", Value::from(-70000_i64)),
        ("enabled", Value::Null),
        (
            "tags",
            Value::map([("a", Value::from("x")), ("b", Value::Unknown)]),
        ),
        ("names", Value::string_set(["p", "q"])),
        (
            "nested",
            Value::list([Value::object([
                (
                    "k",
                    Value::from("long string that does not fit a fixstr header at all"),
                ),
                (
                    "v",
                    Value::set([Value::map([("n", Value::from(1.5))]), Value::Unknown]),
                ),
            ])]),
        ),
        ("anything", Value::list([Value::from("dyn")])),
    ]);
    assert_eq!(round_trip(&v, &ty), v);
}

#[test]
fn object_attributes_are_sorted_and_missing_ones_null() {
    let ty = Type::object([("b", Type::String), ("a", Type::Bool)]);
    let bytes = encode(&Value::object([("b", Value::from("x"))]), &ty).unwrap_or_default();
    assert_eq!(bytes, vec![0x82, 0xa1, b'a', 0xc0, 0xa1, b'b', 0xa1, b'x']);
}

#[test]
fn unknowns_match_go_cty() {
    assert_eq!(
        encode(&Value::Unknown, &Type::String).unwrap_or_default(),
        UNKNOWN.to_vec()
    );
    // Refined unknown: ext 0x0c with a map {1: false} (definitely not null).
    let refined = [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2];
    assert_eq!(decode(&refined, &Type::String).ok(), Some(Value::Unknown));
    let prefix = [0xc7, 0x06, 0x0c, 0x81, 0x02, 0xa3, b'a', b'b', b'c'];
    assert_eq!(decode(&prefix, &Type::String).ok(), Some(Value::Unknown));
    assert!(decode(&[0xd5, 0x07, 0, 0], &Type::String).is_err());
}

#[test]
fn dynamic_values_carry_their_type() {
    let bytes = encode(&Value::from("x"), &Type::Dynamic).unwrap_or_default();
    let mut expected = vec![0x92, 0xc4, 8];
    expected.extend_from_slice(b"\"string\"");
    expected.extend_from_slice(&[0xa1, b'x']);
    assert_eq!(bytes, expected);
    assert_eq!(decode(&bytes, &Type::Dynamic).ok(), Some(Value::from("x")));
    assert_eq!(decode(&[0xc0], &Type::Dynamic).ok(), Some(Value::Null));
}

#[test]
fn number_forms() {
    let cases: [(&[u8], Value); 6] = [
        (&[0x05], Value::from(5_i64)),
        (&[0xff], Value::from(-1_i64)),
        (&[0xcd, 0x01, 0x00], Value::from(256_i64)),
        (&[0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0], Value::from(1.5)),
        (&[0xa3, b'1', b'.', b'5'], Value::from(1.5)),
        (
            &[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            Value::Number(Number::Big("18446744073709551615".into())),
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(
            decode(bytes, &Type::Number).ok(),
            Some(expected.clone()),
            "{bytes:?}"
        );
        assert_eq!(round_trip(&expected, &Type::Number), expected);
    }
    assert!(decode(&[0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1], &Type::Number).is_err());
}

#[test]
fn a_uint64_above_i64_has_one_canonical_form() {
    // 14918173765664768000 is an exact f64: as uint64 and as its decimal text it must
    // decode to the same value, so that re-encoding is stable.
    let u: u64 = 14_918_173_765_664_768_000;
    let mut bytes = vec![0xcf];
    bytes.extend_from_slice(&u.to_be_bytes());
    let from_uint = decode(&bytes, &Type::Number).ok();
    let text = u.to_string();
    let mut str_bytes = vec![0xa0 | text.len() as u8];
    str_bytes.extend_from_slice(text.as_bytes());
    let from_text = decode(&str_bytes, &Type::Number).ok();
    let expected = Value::Number(Number::Float(u as f64));
    assert_eq!(from_uint.as_ref(), Some(&expected));
    assert_eq!(from_text.as_ref(), Some(&expected));
    assert_eq!(round_trip(&expected, &Type::Number), expected);
}

#[test]
fn malformed_input_is_an_error() {
    let ty = schema_type();
    let good = encode(&Value::object([("id", Value::from("abc"))]), &ty).unwrap_or_default();
    for cut in 0..good.len() {
        assert!(decode(&good[..cut], &ty).is_err(), "prefix {cut}");
    }
    for bad in [
        &[0xc1][..],
        &[0x81, 0xa1, b'z', 0xc0],
        &[0xdd, 0xff, 0xff, 0xff, 0xff],
        &[0x92, 0xa1, b'?', 0xc0],
    ] {
        assert!(decode(bad, &ty).is_err(), "{bad:?}");
    }
    assert!(decode(&[0xa1, 0xff], &Type::String).is_err());
    assert!(encode(&Value::from(1_i64), &Type::String).is_err());
    assert!(encode(&Value::from("x"), &ty).is_err());
}
