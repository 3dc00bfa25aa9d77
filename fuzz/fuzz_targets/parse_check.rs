//! Rule text → parser, resolver and checker, then the formatter on what parsed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut map = probity::diag::SourceMap::new();
    let checked = probity::resolve::load_sources(&mut map, vec![("fuzz.coi".into(), text.into())]);
    let _ = probity::diag::render(&map, &checked.diagnostics);
    let _ = probity::diag::render_json(&map, &checked.diagnostics);
    if let Some(program) = &checked.program {
        if let Ok(plan) = probity::plan::plan(program) {
            let _ = probity::plan::explain(&plan, program, Some(&map));
        }
    }
    // The formatter must not panic on anything that parses.
    let id = map.add(String::from("again.coi"), text.to_string());
    let (ast, diags) = probity::syntax::parse(id, text);
    if !diags.iter().any(probity::diag::Diagnostic::is_error) {
        let _ = probity::syntax::fmt::format(&ast, text);
    }
});
