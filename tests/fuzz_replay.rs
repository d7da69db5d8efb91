//! Replays the fuzz targets' checked-in inputs (`fuzz/seeds/<target>/` and every crash ever
//! found, `fuzz/regressions/<target>/`) and a few thousand deterministic pseudo-random inputs
//! (random bytes, and seeds with bytes flipped, cut and spliced) through the same functions the
//! libFuzzer harness runs (`terraform_provider_multicloud::fuzzing`). Cheap enough for every
//! `cargo test`; real coverage-guided fuzzing is `scripts/fuzz.sh` on nightly.
//!
//! `UPDATE_FUZZ_SEEDS=1 cargo test --test fuzz_replay` rewrites the seeds from the provider's
//! schemas and the bad-input corpus.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use terraform_provider_multicloud::fuzzing::{self, TARGETS};

/// Pseudo-random inputs per target, on top of the checked-in ones.
const GENERATED_PER_TARGET: usize = 3000;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    paths
        .iter()
        .filter(|p| p.is_file())
        .map(|p| std::fs::read(p).expect("readable fuzz input"))
        .collect()
}

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }
}

/// Random bytes, or a seed mutated the way a fuzzer would start.
fn generated(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    const INTERESTING: [u8; 12] = [
        0x00, 0xc0, 0xd4, 0xdc, 0xde, 0xdf, 0x92, 0xff, b'{', b'"', b'<', b'%',
    ];
    if seeds.is_empty() || rng.below(4) == 0 {
        let len = rng.below(96);
        return (0..len).map(|_| (rng.next() >> 24) as u8).collect();
    }
    let mut input = seeds[rng.below(seeds.len())].clone();
    for _ in 0..=rng.below(4) {
        match rng.below(5) {
            0 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] ^= 1 << rng.below(8);
            }
            1 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => input.truncate(rng.below(input.len() + 1)),
            3 => {
                let other = &seeds[rng.below(seeds.len())];
                let cut = rng.below(other.len() + 1);
                let at = rng.below(input.len() + 1);
                input.splice(at..at, other[cut..].iter().copied());
            }
            _ => {
                let at = rng.below(input.len() + 1);
                input.insert(at, (rng.next() >> 40) as u8);
            }
        }
    }
    input
}

fn run(target: &str, f: fn(&[u8]), input: &[u8], failures: &mut Vec<String>) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| f(input))) {
        let why = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        let hex: String = input.iter().map(|b| format!("{b:02x}")).collect();
        failures.push(format!("{target}: panicked ({why}) on input {hex}"));
    }
}

#[test]
fn fuzz_targets_survive_their_corpus_and_generated_inputs() {
    if std::env::var_os("UPDATE_FUZZ_SEEDS").is_some() {
        seeds::write(&fuzz_dir());
    }
    let mut failures = Vec::new();
    println!("fuzz replay (target: seeds + regressions + generated):");
    let mut total = 0;
    for (i, (target, f)) in TARGETS.iter().enumerate() {
        let seeds = files(&fuzz_dir().join("seeds").join(target));
        let regressions = files(&fuzz_dir().join("regressions").join(target));
        assert!(
            !seeds.is_empty(),
            "{target} has no seeds; run with UPDATE_FUZZ_SEEDS=1"
        );
        for input in seeds.iter().chain(&regressions) {
            run(target, *f, input, &mut failures);
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1));
        for _ in 0..GENERATED_PER_TARGET {
            let input = generated(&mut rng, &seeds);
            run(target, *f, &input, &mut failures);
        }
        let n = seeds.len() + regressions.len() + GENERATED_PER_TARGET;
        total += n;
        println!(
            "  {target:<24} {:>4} + {:>3} + {GENERATED_PER_TARGET} = {n}",
            seeds.len(),
            regressions.len()
        );
    }
    println!("  total inputs: {total}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Known inputs that once crashed (or nearly did) stay covered even without the files.
#[test]
fn decoders_reject_hostile_shapes_without_panicking() {
    let types = fuzzing::types();
    let hostile: [&[u8]; 8] = [
        &[0xdd, 0xff, 0xff, 0xff, 0xff],       // array claiming 4 G elements
        &[0xdf, 0xff, 0xff, 0xff, 0xff],       // map claiming 4 G entries
        &[0xc9, 0xff, 0xff, 0xff, 0xff, 0x00], // ext claiming 4 GB
        &[0x92, 0xa3, b'"', b'x', b'"'],       // dynamic with a type that is not a type
        &[0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], // NaN
        &[0xd9],                               // truncated str8
        b"",
        &[0x92; 64], // nested [type, value] pairs
    ];
    for (i, _) in types.iter().enumerate() {
        for h in hostile {
            let mut input = vec![u8::try_from(i).unwrap_or(0)];
            input.extend_from_slice(h);
            fuzzing::dynamic_value_msgpack(&input);
            fuzzing::dynamic_value_json(&input);
        }
    }
    fuzzing::type_json(&[b'['; 10_000]);
    fuzzing::arm_response(b"\x01\xf4<html><body>502 Bad Gateway</body></html>");
}

mod seeds {
    //! The seed inputs, written from the provider's own schemas and sample bodies.

    use std::path::Path;

    use terraform_provider_multicloud::fuzzing;
    use terraform_provider_multicloud::protocol::{Type, Value, json, msgpack};

    fn put(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
        let d = dir.join("seeds").join(target);
        std::fs::create_dir_all(&d).expect("seed directory");
        std::fs::write(d.join(name), bytes).expect("seed written");
    }

    pub(super) fn write(dir: &Path) {
        let types = fuzzing::types();
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_input/cases");
        let mut configs: Vec<Vec<u8>> = Vec::new();
        for entry in std::fs::read_dir(corpus).expect("bad-input corpus") {
            let text = std::fs::read_to_string(entry.expect("entry").path()).expect("case file");
            let file: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            configs.push(serde_json::to_vec(&file["base"]).expect("JSON"));
        }
        configs.sort();
        for (i, ty) in types.iter().enumerate() {
            let sel = u8::try_from(i).expect("fewer than 256 types");
            put(
                dir,
                "type_json",
                &format!("type-{i:02}"),
                &ty.to_json_bytes(),
            );
            let null = msgpack::encode(&Value::Null, ty).expect("null encodes");
            put(
                dir,
                "dynamic_value_msgpack",
                &format!("null-{i:02}"),
                &[&[sel][..], &null].concat(),
            );
            for (j, config) in configs.iter().enumerate() {
                // Only a configuration written for this type: others decode too, but add nothing.
                let fits = match (ty, serde_json::from_slice::<serde_json::Value>(config)) {
                    (Type::Object(attrs), Ok(serde_json::Value::Object(m))) => {
                        m.keys().all(|k| attrs.contains_key(k))
                    }
                    _ => false,
                };
                if !fits {
                    continue;
                }
                if let Ok(v) = json::decode(config, ty) {
                    let known = [&[sel][..], config].concat();
                    put(
                        dir,
                        "dynamic_value_json",
                        &format!("config-{i:02}-{j:02}"),
                        &known,
                    );
                    if let Ok(packed) = msgpack::encode(&v, ty) {
                        let bytes = [&[sel][..], &packed].concat();
                        put(
                            dir,
                            "dynamic_value_msgpack",
                            &format!("config-{i:02}-{j:02}"),
                            &bytes,
                        );
                    }
                }
            }
        }
        put(
            dir,
            "dynamic_value_msgpack",
            "dynamic-string",
            b"\x00\x92\xa8\"string\"\xa2hi",
        );
        put(
            dir,
            "dynamic_value_msgpack",
            "unknown-refined",
            b"\x00\xc7\x03\x0c\x81\x01\xc3",
        );
        put(
            dir,
            "dynamic_value_json",
            "dynamic",
            b"\x00{\"value\":[\"a\"],\"type\":[\"list\",\"string\"]}",
        );
        let arm: [(&str, u16, &[u8]); 9] = [
            (
                "error",
                400,
                br#"{"error":{"code":"InvalidResourceName","message":"bad name","target":"name"}}"#,
            ),
            (
                "flat-error",
                409,
                br#"{"code":"Conflict","message":"busy"}"#,
            ),
            (
                "html",
                502,
                b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
            ),
            (
                "truncated",
                200,
                br#"{"id":"/subscriptions/x","properties":{"provisioningState":"Succ"#,
            ),
            ("empty", 500, b""),
            (
                "wrong-types",
                200,
                br#"{"id":7,"name":["x"],"location":{},"properties":{"environmentName":1}}"#,
            ),
            (
                "lro-failed",
                200,
                br#"{"status":"Failed","error":{"code":"Quota","message":"no"}}"#,
            ),
            (
                "provisioning",
                200,
                br#"{"properties":{"provisioningState":"Canceled","error":{"code":"X"}}}"#,
            ),
            (
                "jwt",
                200,
                b"eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ0Iiwib2lkIjoibyIsImFwcGlkIjoiYSJ9.sig",
            ),
        ];
        for (name, status, body) in arm {
            put(
                dir,
                "arm_response",
                name,
                &[&status.to_be_bytes()[..], body].concat(),
            );
        }
        put(
            dir,
            "arm_response",
            "retry-after",
            b"\x01\xadWed, 21 Oct 2015 07:28:00 GMT",
        );
        let policy = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Federated%22%3A%22arn%3Aaws%3Aiam%3A%3A123456789012%3Aoidc-provider%2Fsts.windows.net%2F33e01921-4d64-4f8c-a055-5bdaffd5e33d%2F%22%7D%2C%22Action%22%3A%22sts%3AAssumeRoleWithWebIdentity%22%7D%5D%7D";
        let template = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"<oidc_provider_arn>"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"sts:RoleSessionName":"MicrosoftDefenderForClouds_<customer_tenant_id>"}}},{"Effect":"Allow","Principal":{"AWS":"<role_arn:cspm_monitor>"},"Action":"sts:AssumeRole"}]}"#;
        put(
            dir,
            "aws_policy_document",
            "encoded-and-template",
            format!("{policy}\0{template}").as_bytes(),
        );
        put(
            dir,
            "aws_policy_document",
            "bad-escape",
            b"%7B%ZZ%22\0<account_id>",
        );
        put(
            dir,
            "aws_policy_document",
            "unknown-placeholder",
            b"{}\0{\"a\":\"<nope>\",\"b\":\"<role_arn:x>\"}",
        );
    }
}
