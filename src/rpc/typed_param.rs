//! libvirt's typed parameters (`remote_typed_param` / `admin_typed_param`):
//! a field name and a value that is a union on its type.

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::{SerializeTuple, Serializer};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// Field names must be shorter than this (VIR_TYPED_PARAM_FIELD_LENGTH).
pub const FIELD_LENGTH: usize = 80;

/// The value of a typed parameter; the discriminant is libvirt's
/// `virTypedParameterType`.
#[derive(Clone, Debug, PartialEq)]
pub enum TypedValue {
    /// VIR_TYPED_PARAM_INT (1)
    Int(i32),
    /// VIR_TYPED_PARAM_UINT (2)
    UInt(u32),
    /// VIR_TYPED_PARAM_LLONG (3)
    LLong(i64),
    /// VIR_TYPED_PARAM_ULLONG (4)
    ULLong(u64),
    /// VIR_TYPED_PARAM_DOUBLE (5)
    Double(f64),
    /// VIR_TYPED_PARAM_BOOLEAN (6), an int on the wire
    Boolean(bool),
    /// VIR_TYPED_PARAM_STRING (7)
    String(String),
}

impl TypedValue {
    /// libvirt's type number.
    pub fn type_number(&self) -> i32 {
        match self {
            TypedValue::Int(_) => 1,
            TypedValue::UInt(_) => 2,
            TypedValue::LLong(_) => 3,
            TypedValue::ULLong(_) => 4,
            TypedValue::Double(_) => 5,
            TypedValue::Boolean(_) => 6,
            TypedValue::String(_) => 7,
        }
    }
}

impl TypedValue {
    /// libvirt's name of the type, as its error messages spell it.
    pub fn type_name(&self) -> &'static str {
        match self {
            TypedValue::Int(_) => "int",
            TypedValue::UInt(_) => "uint",
            TypedValue::LLong(_) => "llong",
            TypedValue::ULLong(_) => "ullong",
            TypedValue::Double(_) => "double",
            TypedValue::Boolean(_) => "boolean",
            TypedValue::String(_) => "string",
        }
    }
}

impl Serialize for TypedValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&self.type_number())?;
        match self {
            TypedValue::Int(v) => t.serialize_element(v)?,
            TypedValue::UInt(v) => t.serialize_element(v)?,
            TypedValue::LLong(v) => t.serialize_element(v)?,
            TypedValue::ULLong(v) => t.serialize_element(v)?,
            TypedValue::Double(v) => t.serialize_element(v)?,
            TypedValue::Boolean(v) => t.serialize_element(&(*v as i32))?,
            TypedValue::String(v) => t.serialize_element(v)?,
        }
        t.end()
    }
}

impl<'de> Deserialize<'de> for TypedValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TypedValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a typed parameter value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<TypedValue, A::Error> {
                let missing = || de::Error::custom("truncated typed parameter");
                let tag: i32 = a.next_element()?.ok_or_else(missing)?;
                Ok(match tag {
                    1 => TypedValue::Int(a.next_element()?.ok_or_else(missing)?),
                    2 => TypedValue::UInt(a.next_element()?.ok_or_else(missing)?),
                    3 => TypedValue::LLong(a.next_element()?.ok_or_else(missing)?),
                    4 => TypedValue::ULLong(a.next_element()?.ok_or_else(missing)?),
                    5 => TypedValue::Double(a.next_element()?.ok_or_else(missing)?),
                    6 => {
                        let v: i32 = a.next_element()?.ok_or_else(missing)?;
                        TypedValue::Boolean(v != 0)
                    }
                    7 => TypedValue::String(a.next_element()?.ok_or_else(missing)?),
                    other => {
                        return Err(de::Error::custom(format!(
                            "unknown typed parameter type {other}"
                        )))
                    }
                })
            }
        }
        d.deserialize_tuple(2, V)
    }
}

/// One typed parameter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TypedParam {
    /// Field name (shorter than [`FIELD_LENGTH`]).
    pub field: String,
    /// The value.
    pub value: TypedValue,
}

impl TypedParam {
    /// A parameter named `field` with `value`.
    pub fn new(field: &str, value: TypedValue) -> Self {
        TypedParam {
            field: field.to_string(),
            value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::xdr;

    #[test]
    fn threadpool_params_golden() {
        // libvirtd's whole reply body to virt-admin `srv-threadpool-info`
        // (captures/virt-admin-9.0-to-libvirtd.txt).
        let params: Vec<TypedParam> = [
            ("minWorkers", 5),
            ("maxWorkers", 20),
            ("nWorkers", 10),
            ("freeWorkers", 10),
            ("prioWorkers", 5),
            ("jobQueueDepth", 0),
        ]
        .iter()
        .map(|(f, v)| TypedParam::new(f, TypedValue::UInt(*v)))
        .collect();
        let b = xdr::to_bytes(&params).unwrap();
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        assert_eq!(
            hex,
            "000000060000000a6d696e576f726b657273000000000002000000050000000a\
             6d6178576f726b65727300000000000200000014000000086e576f726b657273\
             000000020000000a0000000b66726565576f726b65727300000000020000000a\
             0000000b7072696f576f726b6572730000000002000000050000000d6a6f6251\
             7565756544657074680000000000000200000000"
        );
        let back: Vec<TypedParam> = xdr::from_bytes(&b).unwrap();
        assert_eq!(back, params);
    }

    #[test]
    fn every_type_round_trips() {
        let params = vec![
            TypedParam::new("a", TypedValue::Int(-1)),
            TypedParam::new("b", TypedValue::UInt(1)),
            TypedParam::new("c", TypedValue::LLong(-5)),
            TypedParam::new("d", TypedValue::ULLong(5)),
            TypedParam::new("e", TypedValue::Double(0.5)),
            TypedParam::new("f", TypedValue::Boolean(true)),
            TypedParam::new("g", TypedValue::String("x".into())),
        ];
        let b = xdr::to_bytes(&params).unwrap();
        assert_eq!(xdr::from_bytes::<Vec<TypedParam>>(&b).unwrap(), params);
    }

    #[test]
    fn unknown_type_is_an_error() {
        let mut b = xdr::to_bytes(&TypedParam::new("a", TypedValue::Int(1))).unwrap();
        b[11] = 9; // type word after "a" + padding
        assert!(xdr::from_bytes::<TypedParam>(&b).is_err());
    }
}
