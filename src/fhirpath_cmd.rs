//! `assure fhirpath '<expr>' <file>`: evaluate a FHIRPath expression on a resource and
//! print the result with types. Syntax and semantic errors exit 2 with the position.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use assure_fhir::fhirpath::{self, Env, Expr, FhirPathError};
use assure_fhir::model::Node;
use assure_fhir::package::FhirRelease;
use clap::Args;

use crate::diagnostic::Diagnostic;
use crate::exit_codes;

#[derive(Args, Debug)]
pub struct FhirpathArgs {
    /// The FHIRPath expression.
    pub expression: String,
    /// A FHIR resource in JSON or XML; `-` reads standard input.
    #[arg(default_value = "-")]
    pub file: PathBuf,
    /// Output: `text` (one `Type: value` per line) or `json` (`[{"type", "value"}]`).
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
    /// FHIR package for types (path, folder or id#version) [default: the core package
    /// of --fhir-version from the FHIR package cache]. Repeatable.
    #[arg(long = "package", value_name = "PACKAGE")]
    pub packages: Vec<String>,
    /// FHIR version of the resource: 4.0 (R4) or 3.0 (STU3).
    #[arg(long, default_value = "4.0")]
    pub fhir_version: String,
}

pub fn run(args: FhirpathArgs) -> i32 {
    let expr = match Expr::parse(&args.expression) {
        Ok(e) => e,
        Err(e) => return expression_error(&args.expression, &e),
    };
    let release = FhirRelease::from_version(&args.fhir_version);
    let context = match crate::fhir_env::load(&args.packages, release) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_codes::BAD_INPUT;
        }
    };
    for w in &context.warnings {
        eprintln!("warning: {w}");
    }
    let resource = match read_resource(&args.file, context.packages.as_deref()) {
        Ok(r) => r,
        Err(d) => {
            eprintln!("{d}");
            return exit_codes::BAD_INPUT;
        }
    };
    let mut env = Env::new();
    if let Some(model) = &context.model {
        // With types known, a path the model does not have is a semantic error.
        env = env.with_model(model.clone());
        env.strict = true;
    }
    match fhirpath::evaluate(&expr, &resource, &env) {
        Ok(items) => {
            if args.format == "json" {
                println!("{}", fhirpath::to_json(&items));
            } else {
                for item in items.iter() {
                    println!("{}: {}", item.qualified_type(), item.to_display());
                }
            }
            exit_codes::OK
        }
        Err(e) => expression_error(&args.expression, &e),
    }
}

fn expression_error(text: &str, e: &FhirPathError) -> i32 {
    let d = Diagnostic::new("<expression>", format!("{} error: {}", e.kind, e.message))
        .at(e.pos.line as usize, e.pos.col as usize)
        .with_source(text);
    eprint!("{d}");
    exit_codes::BAD_INPUT
}

/// Reads a JSON or XML resource; XML needs the packages for its type definitions.
pub fn read_resource(
    path: &Path,
    packages: Option<&assure_fhir::PackageSet>,
) -> Result<Node, Diagnostic> {
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin().read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes))
    };
    read.map_err(|e| Diagnostic::new(path, format!("cannot read the resource: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
        Diagnostic::new(path, "the resource is not UTF-8 text").at_offset(&lossy, valid)
    })?;
    if text.trim_start().starts_with('<') {
        let Some(packages) = packages else {
            return Err(Diagnostic::new(
                path,
                "reading FHIR XML needs the FHIR core package for its type definitions",
            )
            .help("install hl7.fhir.r4.core#4.0.1 in the FHIR package cache, or pass --package"));
        };
        return assure_fhir::xml::parse_resource(&text, packages)
            .map_err(|e| Diagnostic::new(path, format!("invalid FHIR XML: {e}")));
    }
    assure_fhir::parse_json(&text).map_err(|e| {
        Diagnostic::new(path, format!("invalid JSON: {}", e.message))
            .at(e.pos.line as usize, e.pos.col as usize)
            .with_source(&text)
    })
}
