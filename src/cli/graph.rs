//! `probity graph`: the relationship graph of a case folder (or of one entity's
//! neighbourhood) as Graphviz DOT, SVG or Mermaid.

use std::path::PathBuf;

use super::ErrorFormat;
use super::audit::{emit, run_engine};
use super::common::Exit;
use crate::diag::did_you_mean;
use crate::graph::{self, Graph, svg, text};

/// Output formats of `probity graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Dot,
    Svg,
    Mermaid,
}

#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// The case folder.
    pub case: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
    /// Only the neighbourhood of this entity (its id, or its name).
    #[arg(long, value_name = "ENTITY")]
    pub around: Option<String>,
    /// How many links away from `--around` to go.
    #[arg(long, default_value_t = 1, requires = "around")]
    pub hops: usize,
    /// Rule files or folders giving the schema (default: `CASE/rules/`, else `rules/`).
    #[arg(long)]
    pub rules: Vec<PathBuf>,
    /// Write the output to this file (atomically) instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: &GraphArgs, format: ErrorFormat) -> Exit {
    let cases = [args.case.clone()];
    let (engine, _) = match run_engine(&args.rules, &cases, &[], format, false) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Some((case, facts)) = engine.cases().next() else {
        return Exit::Usage;
    };
    let names = graph::names(case);
    let whole = Graph::from_facts(&graph::case_facts(engine.program(), case, facts), &names);
    let mut title = case.title.clone();
    let g = match &args.around {
        None => whole,
        Some(who) => {
            let id = names
                .iter()
                .find(|(id, name)| *id == who || name.eq_ignore_ascii_case(who))
                .map(|(id, _)| case.canonical(id).to_string());
            let Some(g) = id.as_deref().and_then(|id| whole.around(id, args.hops)) else {
                let near = did_you_mean(who, names.keys().map(String::as_str))
                    .map(|n| format!("\n  = help: did you mean `{n}`?"))
                    .unwrap_or_else(|| {
                        "\n  = help: give an entity's id or name from the case".to_string()
                    });
                eprintln!(
                    "error: no entity `{who}` in `{}`{near}",
                    args.case.display()
                );
                return Exit::Usage;
            };
            title = format!("{title}: within {} of {who}", plural_hops(args.hops));
            g
        }
    };
    let out = match args.format {
        GraphFormat::Dot => text::dot(&g, &title),
        GraphFormat::Mermaid => text::mermaid(&g, &title),
        GraphFormat::Svg => svg::render(&g, &title, "g-"),
    };
    emit(args.output.as_deref(), &out, format)
}

fn plural_hops(n: usize) -> String {
    if n == 1 {
        "1 link".to_string()
    } else {
        format!("{n} links")
    }
}
