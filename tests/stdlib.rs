//! The standard vocabulary parses cleanly and every module is reachable by name.

use probity::diag::{FileId, SourceMap};

#[test]
fn std_modules_parse_without_diagnostics() {
    for (name, text) in probity::stdlib::MODULES {
        let mut map = SourceMap::new();
        let id: FileId = map.add(probity::stdlib::display_path(name), *text);
        let (file, diags) = probity::syntax::parse(id, text);
        assert!(
            diags.is_empty(),
            "{name}: {}",
            probity::diag::render(&map, &diags)
        );
        assert!(!file.items.is_empty(), "{name} declares nothing");
        assert_eq!(probity::stdlib::module(name), Some(*text));
    }
}
