//! include/brine.h is what cbindgen makes of src/lib.rs today.
//! `make capi-header` (BRINE_WRITE_HEADER=1) rewrites it.

use std::path::Path;

#[test]
fn the_committed_header_is_up_to_date() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen reads src/lib.rs")
        .write(&mut generated);
    let header = crate_dir.join("include/brine.h");
    if std::env::var_os("BRINE_WRITE_HEADER").is_some() {
        std::fs::write(&header, &generated).unwrap();
    }
    let committed = std::fs::read(&header).unwrap_or_default();
    assert!(
        committed == generated,
        "capi/include/brine.h is out of date: run `make capi-header` and commit it"
    );
}
