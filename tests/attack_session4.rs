mod common;
#[test]
fn smoke() {}
