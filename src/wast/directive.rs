//! Running a script's directives one by one and judging each.

use super::pragma;
use super::session::{one_line, ActionError, Session};
use super::traps::{describe, is_exhaustion, trap_matches};
use super::values::{matches, show_expected, show_val};
use super::{DirectiveFailure, Options, ScriptReport, WastError};
use std::path::Path;
use wasmi::{Module, Val};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::token::Id;
use wast::{QuoteWat, Wast, WastDirective, WastExecute, WastRet, Wat};

/// What came of one directive.
enum Verdict {
    Pass,
    Fail(String),
    Skip(String),
}

impl Verdict {
    /// A failure, or a skip when `error` is a module wasmi cannot load for want of a proposal.
    fn from_error(expected: &str, error: ActionError) -> Verdict {
        match error {
            ActionError::Setup(message) => Verdict::Fail(message),
            ActionError::Unsupported(why) => Verdict::Skip(why),
            ActionError::Failed(e) => {
                Verdict::Fail(format!("expected {expected}, got {}", describe(&e)))
            }
        }
    }
}

/// Parses `text` and runs every directive on a fresh session.
pub fn run_script(name: &str, text: &str, options: &Options) -> Result<ScriptReport, WastError> {
    let pragmas = pragma::parse(name, text, options.features)?;
    let parse_error = |mut e: wast::Error| {
        e.set_path(Path::new(name));
        e.set_text(text);
        WastError::Parse(e.to_string())
    };
    // The official names.wast exports names with bidi and zero-width characters.
    let mut lexer = Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buffer = ParseBuffer::new_with_lexer(lexer).map_err(parse_error)?;
    let wast: Wast<'_> = parser::parse(&buffer).map_err(parse_error)?;
    let mut session = Session::new(options, &pragmas).map_err(|source| WastError::Spectest {
        file: name.to_string(),
        source,
    })?;
    let mut report = ScriptReport {
        file: name.to_string(),
        ..ScriptReport::default()
    };
    let lines = LineIndex::new(text);
    for mut directive in wast.directives {
        let kind = keyword(&directive);
        let span = directive.span();
        let verdict = run(&mut session, &mut directive);
        record(&mut report, verdict, kind, lines.line_col(span.offset()));
    }
    Ok(report)
}

/// Where each line of a script starts, so a directive's line and column cost a
/// binary search: `Span::linecol_in` scans the text from the start, which made
/// a script of many directives quadratic.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let newlines = text.match_indices('\n').map(|(at, _)| at + 1);
        LineIndex {
            starts: std::iter::once(0).chain(newlines).collect(),
        }
    }

    /// The 0-based line and byte column of `offset`.
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&start| start <= offset).max(1) - 1;
        (line, offset - self.starts[line])
    }
}

/// Counts a verdict; a failure is kept with its 1-based line and column.
fn record(report: &mut ScriptReport, verdict: Verdict, kind: &'static str, at: (usize, usize)) {
    match verdict {
        Verdict::Pass => report.passed += 1,
        Verdict::Skip(why) => {
            report.skipped += 1;
            *report.skip_reasons.entry(why).or_default() += 1;
        }
        Verdict::Fail(message) => {
            report.failed += 1;
            report.failures.push(DirectiveFailure {
                file: report.file.clone(),
                line: at.0 + 1,
                column: at.1 + 1,
                directive: kind,
                message,
            });
        }
    }
}

/// The directive's keyword, for messages.
fn keyword(directive: &WastDirective<'_>) -> &'static str {
    match directive {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap {
            exec: WastExecute::Wat(_),
            ..
        } => "assert_uninstantiable",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
    }
}

fn run(session: &mut Session, directive: &mut WastDirective<'_>) -> Verdict {
    match directive {
        WastDirective::Module(wat) => module(session, wat),
        WastDirective::ModuleDefinition(wat) => define(session, wat),
        WastDirective::ModuleInstance {
            instance, module, ..
        } => instantiate_definition(session, *instance, *module),
        WastDirective::Register { name, module, .. } => match session.register(name, *module) {
            Ok(()) => Verdict::Pass,
            Err(e) => Verdict::from_error("the instance to register", e),
        },
        WastDirective::Invoke(invoke) => match session.invoke(invoke) {
            Ok(_) => Verdict::Pass,
            Err(e) => Verdict::from_error("the call to return", e),
        },
        WastDirective::AssertReturn { exec, results, .. } => assert_return(session, exec, results),
        WastDirective::AssertTrap { exec, message, .. } => assert_trap(session, exec, message),
        WastDirective::AssertExhaustion { call, message, .. } => {
            let outcome = session.invoke(call);
            assert_exhaustion(session, outcome, message)
        }
        WastDirective::AssertInvalid {
            module, message, ..
        }
        | WastDirective::AssertMalformed {
            module, message, ..
        } => assert_fails_to_load(session, module, message),
        WastDirective::AssertUnlinkable {
            module, message, ..
        } => assert_unlinkable(session, module, message),
        WastDirective::AssertInvalidCustom { .. } | WastDirective::AssertMalformedCustom { .. } => {
            Verdict::Skip("wasmi does not interpret custom sections".to_string())
        }
        WastDirective::AssertException { .. } => {
            Verdict::Skip("wasmi has no exception handling".to_string())
        }
        WastDirective::AssertSuspension { .. } => {
            Verdict::Skip("wasmi has no stack switching".to_string())
        }
        WastDirective::Thread(_) | WastDirective::Wait { .. } => {
            Verdict::Skip("wasmi has no threads".to_string())
        }
    }
}

fn module(session: &mut Session, wat: &mut QuoteWat<'_>) -> Verdict {
    let name = wat.name();
    let compiled = session.compile(wat);
    adopt(session, name, compiled)
}

/// Instantiates `module` and makes the instance the current one (under
/// `name`), or records why there is none.
fn adopt(
    session: &mut Session,
    name: Option<Id<'_>>,
    module: Result<Module, ActionError>,
) -> Verdict {
    match module.and_then(|module| session.instantiate(&module)) {
        Ok(instance) => {
            session.set_current(name, instance);
            Verdict::Pass
        }
        Err(e) => {
            let why = match &e {
                ActionError::Unsupported(why) => Some(why.as_str()),
                _ => None,
            };
            session.clear_current(name, why);
            load_failure(e)
        }
    }
}

/// The verdict on a module that should have loaded and instantiated.
fn load_failure(error: ActionError) -> Verdict {
    match error {
        ActionError::Setup(message) => {
            Verdict::Fail(format!("expected the module to load, got: {message}"))
        }
        other => Verdict::from_error("the module to instantiate", other),
    }
}

fn define(session: &mut Session, wat: &mut QuoteWat<'_>) -> Verdict {
    let name = wat.name();
    match session.compile(wat) {
        Ok(module) => {
            session.define_module(name, module);
            Verdict::Pass
        }
        Err(e) => {
            if let ActionError::Unsupported(why) = &e {
                session.define_unsupported(name, why);
            }
            load_failure(e)
        }
    }
}

fn instantiate_definition(
    session: &mut Session,
    instance: Option<Id<'_>>,
    module: Option<Id<'_>>,
) -> Verdict {
    let defined = session.definition(module);
    adopt(session, instance, defined)
}

fn assert_return(
    session: &mut Session,
    exec: &mut WastExecute<'_>,
    expected: &[WastRet<'_>],
) -> Verdict {
    match session.execute(exec) {
        Ok(values) => compare_results(session, &values, expected),
        Err(e) => Verdict::from_error(&format!("({})", show_all(expected)), e),
    }
}

fn compare_results(session: &Session, values: &[Val], expected: &[WastRet<'_>]) -> Verdict {
    let store = session.store();
    let same = values.len() == expected.len()
        && values
            .iter()
            .zip(expected)
            .all(|(v, e)| matches(store, v, e));
    if same {
        return Verdict::Pass;
    }
    let got: Vec<String> = values.iter().map(|v| show_val(store, v)).collect();
    Verdict::Fail(format!(
        "expected ({}), got ({})",
        show_all(expected),
        got.join(") (")
    ))
}

fn show_all(expected: &[WastRet<'_>]) -> String {
    let all: Vec<String> = expected.iter().map(show_expected).collect();
    all.join(") (")
}

fn assert_trap(session: &mut Session, exec: &mut WastExecute<'_>, message: &str) -> Verdict {
    match session.execute(exec) {
        Ok(values) => unexpected_return(session, &values, &format!("trap \"{message}\"")),
        Err(ActionError::Failed(e)) if trap_matches(&e, message) => Verdict::Pass,
        Err(e) => Verdict::from_error(&format!("trap \"{message}\""), e),
    }
}

/// The verdict on an action that returned `values` when `expected` (a trap) was due.
fn unexpected_return(session: &Session, values: &[Val], expected: &str) -> Verdict {
    let got: Vec<String> = values
        .iter()
        .map(|v| show_val(session.store(), v))
        .collect();
    Verdict::Fail(format!(
        "expected {expected}, got a return ({})",
        got.join(") (")
    ))
}

fn assert_exhaustion(
    session: &Session,
    outcome: Result<Vec<Val>, ActionError>,
    message: &str,
) -> Verdict {
    match outcome {
        Err(ActionError::Failed(e)) if is_exhaustion(&e) || trap_matches(&e, message) => {
            Verdict::Pass
        }
        Ok(values) => unexpected_return(session, &values, &format!("exhaustion \"{message}\"")),
        Err(e) => Verdict::from_error(&format!("exhaustion \"{message}\""), e),
    }
}

fn assert_fails_to_load(session: &Session, module: &mut QuoteWat<'_>, message: &str) -> Verdict {
    match session.compile(module) {
        Ok(_) => Verdict::Fail(format!(
            "expected the module to be rejected (\"{message}\"), but it loaded"
        )),
        Err(_) => Verdict::Pass,
    }
}

fn assert_unlinkable(session: &mut Session, module: &mut Wat<'_>, message: &str) -> Verdict {
    let compiled = module
        .encode()
        .map_err(|e| ActionError::Setup(one_line(&e.message())))
        .and_then(|bytes| session.compile_bytes(&bytes));
    let module = match compiled {
        Ok(module) => module,
        Err(ActionError::Unsupported(why)) => return Verdict::Skip(why),
        Err(e) => {
            let got = match e {
                ActionError::Failed(e) => describe(&e),
                ActionError::Setup(m) | ActionError::Unsupported(m) => m,
            };
            return Verdict::Fail(format!(
                "expected a module that fails to link (\"{message}\"), but it does not load: {got}"
            ));
        }
    };
    match session.instantiate(&module) {
        Ok(_) => Verdict::Fail(format!(
            "expected the module to fail to link (\"{message}\"), but it instantiated"
        )),
        Err(ActionError::Unsupported(why)) => Verdict::Skip(why),
        Err(_) => Verdict::Pass,
    }
}

#[cfg(test)]
mod tests {
    use super::LineIndex;

    #[test]
    fn line_index_agrees_with_the_span_scan() {
        let text = "(module)\n\n  (assert_return (invoke \"f\"))\nlast";
        let index = LineIndex::new(text);
        for offset in 0..text.len() {
            let span = wast::token::Span::from_offset(offset);
            assert_eq!(index.line_col(offset), span.linecol_in(text), "{offset}");
        }
    }
}
