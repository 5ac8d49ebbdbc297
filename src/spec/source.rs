//! Input sources: `{Source: {Type, Params}, Alias, Target}`, one parameter set
//! per source type.

use super::error::{Collector, Site};
use super::fields::{hint, site, Fields};
use super::model::{InputSource, Source};
use super::paths;
use super::sites::InputSites;
use super::tree::{Node, Value};
use std::path::Path;

/// The source type names brine accepts (any case).
const SOURCE_TYPES: &[&str] = &[
    "localDirectory",
    "local",
    "inline",
    "urlDownload",
    "s3",
    "ipfs",
];

/// An input and where its target is (for duplicate and coverage checks).
#[derive(Debug, Clone)]
pub(crate) struct Located {
    /// The input; `None` when its source or target had errors (reported).
    pub input: Option<InputSource>,
    /// Its mount point; `None` when the Target had errors (reported).
    pub target: Option<String>,
    /// The site of its target (or of the module field for spec-form modules).
    pub site: Site,
    /// The site of the parameter naming its data (see [`InputSites::source`]).
    pub source_site: Site,
}

/// The sites of `inputs`, in the order their valid inputs are kept.
pub(crate) fn input_sites(inputs: &[Located]) -> Vec<InputSites> {
    inputs
        .iter()
        .filter(|l| l.input.is_some())
        .map(|l| InputSites {
            target: l.site.clone(),
            source: l.source_site.clone(),
        })
        .collect()
}

/// Reads an input source. `fixed_target` is the mount point of a spec-form
/// module source, which takes no `Target` of its own.
pub(crate) fn input_source(
    cx: &mut Collector,
    node: &Node,
    path: &str,
    dir: &Path,
    fixed_target: Option<&str>,
) -> Option<Located> {
    let what = "an input source (Source, Target)";
    let fields = Fields::read(cx, node, path, what, &["Source", "Alias", "Target"])?;
    let source_node = fields.require(cx, "Source", "a mapping with Type and Params");
    let source_path = fields.path_of("Source");
    let source_site = source_node.map_or_else(
        || site(fields.node, &source_path),
        |n| data_site(n, &source_path),
    );
    let source = source_node.and_then(|n| source(cx, n, &source_path, dir));
    let alias = fields.string(cx, "Alias");
    let (target, site) = target(cx, &fields, fixed_target);
    let input = source
        .zip(target.clone())
        .map(|(source, target)| InputSource {
            source,
            alias,
            target,
        });
    Some(Located {
        input,
        target,
        site,
        source_site,
    })
}

/// The parameters that name an input's data, in any source type.
const DATA_PARAMS: &[&str] = &["SourcePath", "Path", "URL", "CID", "Bucket"];

/// The site of the parameter of source `node` that names its data, else of `node`.
fn data_site(node: &Node, path: &str) -> Site {
    let Some(params) = entry(node, "Params") else {
        return site(node, path);
    };
    let params_path = super::fields::join(path, "Params");
    DATA_PARAMS
        .iter()
        .find_map(|name| Some((*name, entry(params, name)?)))
        .map_or_else(
            || site(params, &params_path),
            |(name, value)| site(value, &super::fields::join(&params_path, name)),
        )
}

/// The value of key `name` (any case) in mapping `map`.
fn entry<'n>(map: &'n Node, name: &str) -> Option<&'n Node> {
    let Value::Map(entries) = &map.value else {
        return None;
    };
    entries.iter().find_map(|(k, v)| match &k.value {
        Value::Str(key) if key.eq_ignore_ascii_case(name) => Some(v),
        _ => None,
    })
}

/// The input's mount point (if it is valid) and the site that names it. A
/// spec-form module source mounts at `fixed` unless it gives a Target of its
/// own, which Bacalhau's legacy transformer keeps (and so does brine).
fn target(cx: &mut Collector, fields: &Fields, fixed: Option<&str>) -> (Option<String>, Site) {
    let path = fields.path_of("Target");
    if let Some(fixed) = fixed {
        if fields.get("Target").is_none() {
            return (Some(fixed.to_string()), site(fields.node, &fields.path));
        }
    }
    let expected = "the guest path to mount the input at";
    let Some(node) = fields.require(cx, "Target", expected) else {
        return (None, site(fields.node, &path));
    };
    let target = super::fields::string(cx, node, &path).and_then(|text| {
        paths::mount_point(&text)
            .map_err(|error| cx.at(&site(node, &path), error.to_string()))
            .ok()
    });
    (target, site(node, &path))
}

/// Reads `{Type, Params}` of a source.
fn source(cx: &mut Collector, node: &Node, path: &str, dir: &Path) -> Option<Source> {
    let what = "a source mapping (Type, Params)";
    let fields = Fields::read(cx, node, path, what, &["Type", "Params"])?;
    let types = SOURCE_TYPES.join(", ");
    let type_node = fields.require(cx, "Type", &format!("a source type ({types})"))?;
    let type_path = fields.path_of("Type");
    let name = super::fields::string(cx, type_node, &type_path)?;
    let Some(kind) = kind(&name) else {
        let msg = format!(
            "unknown source type `{name}`{} (brine supports {types})",
            hint(&name, SOURCE_TYPES)
        );
        cx.at(&site(type_node, &type_path), msg);
        return None;
    };
    let empty = Node {
        value: Value::Map(Vec::new()),
        line: node.line,
        column: node.column,
    };
    let params_node = fields.get("Params").unwrap_or(&empty);
    let params_path = fields.path_of("Params");
    let what = "the source's parameters";
    let params = Fields::read(cx, params_node, &params_path, what, kind.params())?;
    kind.read(cx, &params, dir)
}

/// A source type.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Local,
    Inline,
    UrlDownload,
    S3,
    Ipfs,
}

/// The source type named `name` (any case).
fn kind(name: &str) -> Option<Kind> {
    match name.to_ascii_lowercase().as_str() {
        "localdirectory" | "local" => Some(Kind::Local),
        "inline" => Some(Kind::Inline),
        "urldownload" => Some(Kind::UrlDownload),
        "s3" => Some(Kind::S3),
        "ipfs" => Some(Kind::Ipfs),
        _ => None,
    }
}

impl Kind {
    /// The parameter names this type takes.
    fn params(self) -> &'static [&'static str] {
        match self {
            // `Path` is the spelling of wasm-engine-spec.txt's sample; Bacalhau's is `SourcePath`.
            Kind::Local => &["SourcePath", "Path", "ReadWrite"],
            Kind::Inline | Kind::UrlDownload => &["URL"],
            Kind::S3 => &[
                "Bucket",
                "Key",
                "Filter",
                "Region",
                "Endpoint",
                "VersionID",
                "ChecksumSHA256",
            ],
            Kind::Ipfs => &["CID"],
        }
    }

    /// Reads and checks the parameters.
    fn read(self, cx: &mut Collector, params: &Fields, dir: &Path) -> Option<Source> {
        match self {
            Kind::Local => local(cx, params, dir),
            Kind::Inline => inline(cx, params),
            Kind::UrlDownload => url_download(cx, params),
            Kind::S3 => s3(cx, params),
            Kind::Ipfs => {
                let cid = required_string(cx, params, "CID", "the content's CID")?;
                Some(Source::Ipfs { cid })
            }
        }
    }
}

/// A required, non-empty string parameter.
fn required_string(
    cx: &mut Collector,
    params: &Fields,
    name: &str,
    expected: &str,
) -> Option<String> {
    let node = params.require(cx, name, expected)?;
    let path = params.path_of(name);
    let text = super::fields::string(cx, node, &path)?;
    if text.is_empty() {
        cx.at(
            &site(node, &path),
            format!("expected {expected}, found an empty string"),
        );
        return None;
    }
    Some(text)
}

/// `localDirectory`: SourcePath (or `Path`, as the engine spec's sample spells it;
/// relative to the job file), ReadWrite.
fn local(cx: &mut Collector, params: &Fields, dir: &Path) -> Option<Source> {
    let read_write = params.boolean(cx, "ReadWrite").unwrap_or(false);
    let key = match (params.get("SourcePath"), params.get("Path")) {
        (Some(_), Some(node)) => {
            let path = params.path_of("Path");
            cx.at(
                &site(node, &path),
                "give SourcePath or Path, not both".to_string(),
            );
            return None;
        }
        (None, Some(_)) => "Path",
        _ => "SourcePath",
    };
    let source_path = required_string(cx, params, key, "a host file or directory path")?;
    Some(Source::Local {
        path: dir.join(source_path),
        read_write,
    })
}

/// `inline`: a `data:` URL that decodes.
fn inline(cx: &mut Collector, params: &Fields) -> Option<Source> {
    let expected = "a data: URL (data:[<media type>][;base64],<data>)";
    let url = required_string(cx, params, "URL", expected)?;
    let node_site = params.get("URL").map(|n| site(n, &params.path_of("URL")))?;
    if !url
        .get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("data:"))
    {
        cx.at(
            &node_site,
            format!("expected {expected}, found `{}`", short(&url)),
        );
        return None;
    }
    if let Err(why) = decode_data_url(&url) {
        cx.at(&node_site, format!("the data: URL does not decode: {why}"));
        return None;
    }
    Some(Source::Inline { url })
}

/// Decodes a `data:` URL (percent-encoded or `;base64`).
pub fn decode_data_url(url: &str) -> Result<Vec<u8>, String> {
    let parsed = data_url::DataUrl::process(url).map_err(|e| format!("{e:?}"))?;
    let (body, _fragment) = parsed
        .decode_to_vec()
        .map_err(|_| "invalid base64".to_string())?;
    Ok(body)
}

/// `urlDownload`: an http or https URL with a host.
fn url_download(cx: &mut Collector, params: &Fields) -> Option<Source> {
    let expected = "an http or https URL";
    let url = required_string(cx, params, "URL", expected)?;
    let node_site = params.get("URL").map(|n| site(n, &params.path_of("URL")))?;
    if !is_http_url(&url) {
        cx.at(
            &node_site,
            format!("expected {expected}, found `{}`", short(&url)),
        );
        return None;
    }
    Some(Source::UrlDownload { url })
}

/// Whether `url` is `http://HOST...` or `https://HOST...` (scheme in any case).
fn is_http_url(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    let http = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    http && !host.is_empty() && !host.contains(char::is_whitespace)
}

/// `s3`: Bucket required; Filter must compile; ChecksumSHA256 must be 64 hex digits.
fn s3(cx: &mut Collector, params: &Fields) -> Option<Source> {
    let bucket = required_string(cx, params, "Bucket", "the bucket's name");
    let filter = params
        .string(cx, "Filter")
        .filter(|f| check_regex(cx, params, f));
    let checksum = params
        .string(cx, "ChecksumSHA256")
        .filter(|c| check_checksum(cx, params, c));
    Some(Source::S3 {
        bucket: bucket?,
        key: params.string(cx, "Key").unwrap_or_default(),
        filter,
        region: params.string(cx, "Region"),
        endpoint: params.string(cx, "Endpoint"),
        version_id: params.string(cx, "VersionID"),
        checksum_sha256: checksum,
    })
}

/// Reports a Filter that is not a valid regex.
fn check_regex(cx: &mut Collector, params: &Fields, filter: &str) -> bool {
    let Err(e) = regex::Regex::new(filter) else {
        return true;
    };
    let first = e.to_string();
    let last = first.lines().last().unwrap_or("invalid").trim();
    let reason = last.trim_start_matches("error: ");
    if let Some(node) = params.get("Filter") {
        let msg = format!("expected a regular expression, found `{filter}` ({reason})");
        cx.at(&site(node, &params.path_of("Filter")), msg);
    }
    false
}

/// Reports a ChecksumSHA256 that is not 64 hex digits.
fn check_checksum(cx: &mut Collector, params: &Fields, checksum: &str) -> bool {
    if checksum.len() == 64 && checksum.bytes().all(|b| b.is_ascii_hexdigit()) {
        return true;
    }
    if let Some(node) = params.get("ChecksumSHA256") {
        let n = checksum.chars().count();
        let msg = format!(
            "expected a SHA-256 as 64 hex digits, found {n} characters `{}`",
            short(checksum)
        );
        cx.at(&site(node, &params.path_of("ChecksumSHA256")), msg);
    }
    false
}

/// `text`, cut to 60 characters for messages.
fn short(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((end, _)) => format!("{}...", text.get(..end).unwrap_or(text)),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_urls() {
        assert_eq!(
            decode_data_url("data:,hello%20world"),
            Ok(b"hello world".to_vec())
        );
        assert_eq!(
            decode_data_url("data:text/plain;base64,aGk="),
            Ok(b"hi".to_vec())
        );
        assert!(decode_data_url("data:text/plain;base64,a!b").is_err());
        assert!(decode_data_url("http://x").is_err());
    }

    #[test]
    fn http_urls() {
        assert!(is_http_url("https://example.com/a.wasm"));
        assert!(is_http_url("HTTP://example.com"));
        assert!(!is_http_url("ftp://example.com/a"));
        assert!(!is_http_url("https:///a"));
        assert!(!is_http_url("example.com"));
    }
}
