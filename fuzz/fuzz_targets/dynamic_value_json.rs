//! libFuzzer entry point; the body is shared with the corpus replay test.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    terraform_provider_multicloud::fuzzing::dynamic_value_json(data);
});
