#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| liftoff_fuzz::job_spec(data));
