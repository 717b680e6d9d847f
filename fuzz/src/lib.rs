//! What the fuzz targets share: a panic hook that keeps panics the room catches (inside
//! yrs' decoders) from being reported as crashes. The board they start from and the
//! replay of a recording are `hindsight_server::replay`, shared with the unit tests.

/// libFuzzer's hook aborts on any panic, even one the room catches and turns into an
/// error (its guard around yrs' decoders). A silent hook lets those through; a panic the
/// room does not catch still unwinds into libFuzzer and aborts, which is a finding.
/// `FUZZ_PANICS=1` prints every panic, caught or not, to see what a finding was.
pub fn quiet_panics() {
    let verbose = std::env::var_os("FUZZ_PANICS").is_some();
    std::panic::set_hook(Box::new(move |info| {
        if verbose {
            eprintln!("panic: {info}");
        }
    }));
}
