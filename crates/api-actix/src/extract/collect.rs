//! Deserialises a JSON value into a request type reporting *every* value that does not fit,
//! as pydantic does, where serde stops at the first.
//!
//! serde is asked again after each failure, with the failing value replaced by a stand-in
//! (`null`, `""`, `false`, `0`, `[]`, `{}`, or removed) that serde moves past. The stand-ins never reach
//! a use case: a request with any error is answered with 422. This runs only for inputs that
//! fail, and is bounded by [`MAX_ERRORS`]. Errors are listed in the order the type declares
//! its fields, as pydantic lists them.

use domain::ValidationErrors;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde_json::{Map, Value, json};
use serde_path_to_error::Segment;

use super::describe::{describe, missing_field};
use crate::error::{ApiError, FieldError, LocPart, Source, value_at};
use crate::pydantic::Wording;

/// Most errors reported for one input.
const MAX_ERRORS: usize = 32;

/// An input parsed into `T` with every structural problem found, and what the client sent.
#[derive(Debug)]
pub struct Collected<T> {
    /// The value, when serde could be made to produce one (with stand-ins if `errors`).
    pub(crate) value: Option<T>,
    /// Every value of the wrong type or missing, in pydantic's words.
    pub(crate) errors: Vec<FieldError>,
    /// The input as sent, for the `input` of later errors.
    pub(crate) raw: Raw,
    pub(crate) source: Source,
}

impl<T> Collected<T> {
    /// The input converted with `convert` (which reports its own violations), answered as
    /// one 422 listing every problem when there is any. When the input already had errors,
    /// the domain's rules are asked too (`check`), so that one answer lists all.
    ///
    /// Returns the converted input with what the client sent, for locating the use case's
    /// own violations ([`ApiError::from_service_at`]).
    ///
    /// # Errors
    /// 422 with every problem found.
    pub fn into_input<U>(
        self,
        convert: impl FnOnce(T) -> (U, ValidationErrors),
        check: impl FnOnce(U) -> ValidationErrors,
    ) -> Result<(U, Raw), ApiError>
    where
        T: DeserializeOwned,
    {
        let Some(value) = self.value else {
            return Err(ApiError::Validation(self.errors));
        };
        let (input, converted) = convert(value);
        if self.errors.is_empty() && converted.0.is_empty() {
            return Ok((input, self.raw));
        }
        let raw = self.raw.into_value();
        let mut errors = self.errors;
        let later = ApiError::field_errors(converted, self.source, &raw)
            .into_iter()
            .chain(ApiError::field_errors(check(input), self.source, &raw));
        for error in later {
            // A stand-in or an unconverted value breaks rules too: its first error stands.
            if !errors.iter().any(|e| error.path().starts_with(e.path())) {
                errors.push(error);
            }
        }
        in_field_order::<T>(&mut errors);
        Err(ApiError::Validation(errors))
    }
}

/// What the client sent, kept cheaply and read as JSON only when an error needs it.
#[derive(Debug)]
pub enum Raw {
    /// A body that parsed at the first attempt.
    Json(actix_web::web::Bytes),
    /// Anything else, already read.
    Value(Value),
}

impl Raw {
    /// The input as a JSON value (`null` if it cannot be read as one).
    pub fn into_value(self) -> Value {
        match self {
            Self::Json(bytes) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            Self::Value(value) => value,
        }
    }
}

fn loc_of(path: &serde_path_to_error::Path) -> Vec<LocPart> {
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(LocPart::Index(*index)),
            Segment::Map { key } => Some(LocPart::Key(key.clone())),
            Segment::Enum { variant } => Some(LocPart::Key(variant.clone())),
            Segment::Unknown => None,
        })
        .collect()
}

/// Where serde failed, with the missing field appended, and its message.
fn attempt<T: DeserializeOwned>(value: &Value) -> Result<T, (Vec<LocPart>, String)> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|err| {
        let message = err.inner().to_string();
        let mut loc = loc_of(err.path());
        if let Some(field) = missing_field(&message) {
            loc.push(LocPart::Key(field.to_owned()));
        }
        (loc, message)
    })
}

/// Deserialises `T` from `raw`, collecting every structural error (see the module docs).
pub(crate) fn collect<T: DeserializeOwned>(source: Source, raw: Value) -> Collected<T> {
    if !raw.is_object() {
        // serde would read a struct from an array too; pydantic wants an object.
        let error = FieldError::new(source, [], Wording::model_type(), raw.clone());
        return Collected {
            value: None,
            errors: vec![error],
            raw: Raw::Value(raw),
            source,
        };
    }
    let mut value = raw.clone();
    let mut errors: Vec<FieldError> = Vec::new();
    let mut parsed = None;
    for _ in 0..MAX_ERRORS * 2 {
        match attempt::<T>(&value) {
            Ok(done) => {
                parsed = Some(done);
                break;
            }
            Err((loc, message)) => {
                // A stand-in a later field made unacceptable again is not a new error.
                if !errors.iter().any(|e| e.path() == loc.as_slice()) {
                    if errors.len() == MAX_ERRORS {
                        break;
                    }
                    let missing = missing_field(&message).is_some();
                    let input = if missing {
                        value_at(&raw, &loc[..loc.len().saturating_sub(1)])
                    } else {
                        value_at(&raw, &loc)
                    };
                    let wording = describe(&message, &input);
                    errors.push(FieldError::new(source, loc.clone(), wording, input));
                }
                match neutralised::<T>(&value, &loc) {
                    Some(next) => value = next,
                    None => break,
                }
            }
        }
    }
    in_field_order::<T>(&mut errors);
    Collected {
        value: parsed,
        errors,
        raw: Raw::Value(raw),
        source,
    }
}

/// `value` with the value at `loc` replaced so that serde gets past it.
fn neutralised<T: DeserializeOwned>(value: &Value, loc: &[LocPart]) -> Option<Value> {
    let (last, parent) = loc.split_last()?;
    // `None`: the value removed, for optional fields whose deserialiser takes text only.
    let stand_ins = [
        Some(Value::Null),
        Some(json!("")),
        Some(json!(false)),
        Some(json!(0)),
        Some(json!([])),
        Some(json!({})),
        None,
    ];
    stand_ins.into_iter().find_map(|stand_in| {
        let mut candidate = value.clone();
        match (container_at(&mut candidate, parent)?, last, stand_in) {
            (Value::Object(map), LocPart::Key(key), Some(v)) => {
                map.insert(key.clone(), v);
            }
            (Value::Object(map), LocPart::Key(key), None) => {
                map.remove(key.as_str());
            }
            (Value::Array(items), LocPart::Index(i), Some(v)) => {
                *items.get_mut(*i)? = v;
            }
            _ => return None,
        }
        match attempt::<T>(&candidate) {
            Err((at, _)) if at.starts_with(loc) => None,
            _ => Some(candidate),
        }
    })
}

/// Sorts errors by the declaration order of `T`'s fields, as pydantic lists them (stable:
/// errors inside one field keep their order).
pub(crate) fn in_field_order<T: DeserializeOwned>(errors: &mut [FieldError]) {
    let order = field_order::<T>();
    errors.sort_by_key(|e| match e.path().first() {
        Some(LocPart::Key(key)) => order.iter().position(|f| f == key).unwrap_or(usize::MAX),
        _ => usize::MAX,
    });
}

/// The fields of struct `T` in declaration order, as its derived `Deserialize` names them.
fn field_order<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut capture = FieldCapture(&[]);
    let _ = T::deserialize(&mut capture);
    capture.0
}

/// A deserialiser that only records the field names a struct asks for.
struct FieldCapture(&'static [&'static str]);

impl<'de> Deserializer<'de> for &mut FieldCapture {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("only struct fields are captured"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = fields;
        Err(de::Error::custom("captured"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

fn container_at<'a>(value: &'a mut Value, path: &[LocPart]) -> Option<&'a mut Value> {
    let mut at = value;
    for part in path {
        at = match part {
            LocPart::Key(key) => at.get_mut(key.as_str())?,
            LocPart::Index(i) => at.get_mut(*i)?,
        };
    }
    Some(at)
}

/// A query string as a JSON object of texts (the last of repeated names wins).
pub(crate) fn query_object(query: &str) -> Value {
    let map: Map<String, Value> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[expect(dead_code, reason = "only deserialised")]
    struct Probe {
        first_name: String,
        last_name: String,
        email: String,
        count: Option<u64>,
        flags: Option<Vec<bool>>,
    }

    fn kinds_and_locs(raw: Value) -> Vec<(String, Value)> {
        collect::<Probe>(Source::Body, raw)
            .errors
            .into_iter()
            .map(|e| (e.kind, serde_json::to_value(&e.loc).unwrap()))
            .collect()
    }

    #[test]
    fn every_missing_field_of_an_empty_object_is_reported() {
        assert_eq!(
            kinds_and_locs(json!({})),
            vec![
                ("missing".into(), json!(["body", "first_name"])),
                ("missing".into(), json!(["body", "last_name"])),
                ("missing".into(), json!(["body", "email"])),
            ]
        );
    }

    #[test]
    fn wrong_types_anywhere_are_all_reported_with_their_inputs() {
        let collected = collect::<Probe>(
            Source::Body,
            json!({"first_name": 1, "last_name": null, "email": "e", "count": "x",
                   "flags": [true, "maybe", false, 3]}),
        );
        let locs: Vec<Value> = collected
            .errors
            .iter()
            .map(|e| serde_json::to_value(&e.loc).unwrap())
            .collect();
        assert_eq!(
            locs,
            vec![
                json!(["body", "first_name"]),
                json!(["body", "last_name"]),
                json!(["body", "count"]),
                json!(["body", "flags", 1]),
                json!(["body", "flags", 3]),
            ]
        );
        assert_eq!(collected.errors[0].input, json!(1));
        assert_eq!(collected.errors[3].kind, "bool_parsing");
    }

    #[test]
    fn an_input_that_is_not_an_object_is_one_error_at_the_body() {
        assert_eq!(
            kinds_and_locs(json!([1])),
            vec![("model_attributes_type".into(), json!(["body"]))]
        );
    }
}
