//! XDR (RFC 4506) as libvirt's rpcgen-generated code writes it, as a serde
//! data format.
//!
//! Mapping: `bool`, all integers of 32 bits or less, and `char` take 4 bytes
//! (rpcgen widens `char`, `short` and their unsigned forms, so a `char x[32]`
//! array is 128 bytes on the wire); `i64`/`u64`/`f64` take 8; `str` and byte
//! buffers are variable strings/opaques (length, bytes, zero padding);
//! `Option` is XDR's optional-data (0 or 1, then the value); sequences are
//! variable arrays (count, elements); tuples and structs are their fields in
//! order; a newtype struct named `__xdr_fixed_opaque_N` is a fixed opaque of
//! N bytes (see [`FixedOpaque`]); enums are a 4-byte discriminant (the variant
//! index) followed by the arm.
//!
//! Decoding is total: every length is checked against what is left of the
//! input before anything is allocated, so a hostile count can never make us
//! reserve more than the message itself holds.

use serde::de::{self, DeserializeSeed, IntoDeserializer, SeqAccess, Visitor};
use serde::ser::{self, Serialize};
use std::fmt;

/// Largest string the remote protocol allows (REMOTE_STRING_MAX).
pub const STRING_MAX: usize = 4 * 1024 * 1024;

const FIXED_OPAQUE_PREFIX: &str = "__xdr_fixed_opaque_";

/// Why an XDR encode or decode failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XdrError {
    /// The input ended inside an item.
    Truncated,
    /// Bytes were left after the last item.
    TrailingBytes(usize),
    /// A string or opaque longer than its bound.
    TooLong { len: usize, max: usize },
    /// A string that is not UTF-8.
    InvalidUtf8,
    /// An optional-data discriminant other than 0 or 1.
    BadOptional(u32),
    /// A value out of range for its Rust type.
    OutOfRange,
    /// A shape XDR cannot express (maps, self-describing reads).
    Unsupported(&'static str),
    /// Anything else, from a type's own (de)serializer.
    Custom(String),
}

impl fmt::Display for XdrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XdrError::Truncated => f.write_str("truncated XDR data"),
            XdrError::TrailingBytes(n) => write!(f, "{n} unexpected bytes after XDR data"),
            XdrError::TooLong { len, max } => write!(f, "XDR length {len} exceeds limit {max}"),
            XdrError::InvalidUtf8 => f.write_str("XDR string is not valid UTF-8"),
            XdrError::BadOptional(v) => write!(f, "bad XDR optional discriminant {v}"),
            XdrError::OutOfRange => f.write_str("XDR value out of range"),
            XdrError::Unsupported(what) => write!(f, "XDR cannot represent {what}"),
            XdrError::Custom(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for XdrError {}

impl ser::Error for XdrError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        XdrError::Custom(msg.to_string())
    }
}

impl de::Error for XdrError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        XdrError::Custom(msg.to_string())
    }
}

fn pad_len(n: usize) -> usize {
    (4 - n % 4) % 4
}

/// Appends `value` in XDR to `out`.
pub fn to_writer<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), XdrError> {
    value.serialize(&mut Serializer { out })
}

/// `value` in XDR.
pub fn to_bytes<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, XdrError> {
    let mut out = Vec::new();
    to_writer(&mut out, value)?;
    Ok(out)
}

/// Decodes one `T` that must fill `input` exactly.
pub fn from_bytes<'de, T: de::Deserialize<'de>>(input: &'de [u8]) -> Result<T, XdrError> {
    let mut d = Deserializer { input, pos: 0 };
    let v = T::deserialize(&mut d)?;
    match input.len() - d.pos {
        0 => Ok(v),
        n => Err(XdrError::TrailingBytes(n)),
    }
}

/// Decodes one `T` from the front of `input`; returns it and the bytes used.
pub fn from_prefix<'de, T: de::Deserialize<'de>>(input: &'de [u8]) -> Result<(T, usize), XdrError> {
    let mut d = Deserializer { input, pos: 0 };
    let v = T::deserialize(&mut d)?;
    Ok((v, d.pos))
}

/// The XDR serializer: appends to a byte vector.
pub struct Serializer<'a> {
    out: &'a mut Vec<u8>,
}

impl Serializer<'_> {
    fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    fn opaque(&mut self, v: &[u8]) -> Result<(), XdrError> {
        let len = u32::try_from(v.len()).map_err(|_| XdrError::OutOfRange)?;
        self.u32(len);
        self.fixed(v);
        Ok(())
    }
    fn fixed(&mut self, v: &[u8]) {
        self.out.extend_from_slice(v);
        self.out.extend_from_slice(&[0u8; 3][..pad_len(v.len())]);
    }
}

/// Writes the fields of a fixed opaque as raw bytes.
struct FixedOpaqueWriter<'a, 'b>(&'a mut Serializer<'b>);

macro_rules! unsupported_ser {
    ($($f:ident($($t:ty),*) -> $r:ty;)*) => {
        $(fn $f(self $(, _: $t)*) -> Result<$r, XdrError> {
            Err(XdrError::Unsupported(stringify!($f)))
        })*
    };
}

impl ser::Serializer for &mut FixedOpaqueWriter<'_, '_> {
    type Ok = ();
    type Error = XdrError;
    type SerializeSeq = ser::Impossible<(), XdrError>;
    type SerializeTuple = ser::Impossible<(), XdrError>;
    type SerializeTupleStruct = ser::Impossible<(), XdrError>;
    type SerializeTupleVariant = ser::Impossible<(), XdrError>;
    type SerializeMap = ser::Impossible<(), XdrError>;
    type SerializeStruct = ser::Impossible<(), XdrError>;
    type SerializeStructVariant = ser::Impossible<(), XdrError>;

    fn serialize_bytes(self, v: &[u8]) -> Result<(), XdrError> {
        self.0.fixed(v);
        Ok(())
    }

    unsupported_ser! {
        serialize_bool(bool) -> ();
        serialize_i8(i8) -> (); serialize_i16(i16) -> (); serialize_i32(i32) -> (); serialize_i64(i64) -> ();
        serialize_u8(u8) -> (); serialize_u16(u16) -> (); serialize_u32(u32) -> (); serialize_u64(u64) -> ();
        serialize_f32(f32) -> (); serialize_f64(f64) -> (); serialize_char(char) -> (); serialize_str(&str) -> ();
        serialize_none() -> (); serialize_unit() -> (); serialize_unit_struct(&'static str) -> ();
        serialize_unit_variant(&'static str, u32, &'static str) -> ();
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), XdrError> {
        Err(XdrError::Unsupported("option in fixed opaque"))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<(), XdrError> {
        Err(XdrError::Unsupported("newtype in fixed opaque"))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), XdrError> {
        Err(XdrError::Unsupported("variant in fixed opaque"))
    }
}

impl<'a, 'b> ser::Serializer for &'a mut Serializer<'b> {
    type Ok = ();
    type Error = XdrError;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = ser::Impossible<(), XdrError>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, v: bool) -> Result<(), XdrError> {
        self.u32(v as u32);
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), XdrError> {
        self.serialize_i32(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<(), XdrError> {
        self.serialize_i32(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<(), XdrError> {
        self.out.extend_from_slice(&v.to_be_bytes());
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> Result<(), XdrError> {
        self.out.extend_from_slice(&v.to_be_bytes());
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), XdrError> {
        self.serialize_u32(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<(), XdrError> {
        self.serialize_u32(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<(), XdrError> {
        self.u32(v);
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> Result<(), XdrError> {
        self.out.extend_from_slice(&v.to_be_bytes());
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), XdrError> {
        self.out.extend_from_slice(&v.to_be_bytes());
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), XdrError> {
        self.out.extend_from_slice(&v.to_be_bytes());
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), XdrError> {
        self.u32(v as u32);
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), XdrError> {
        self.opaque(v.as_bytes())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), XdrError> {
        self.opaque(v)
    }
    fn serialize_none(self) -> Result<(), XdrError> {
        self.u32(0);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), XdrError> {
        self.u32(1);
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), XdrError> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), XdrError> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
    ) -> Result<(), XdrError> {
        self.u32(index);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), XdrError> {
        if name.starts_with(FIXED_OPAQUE_PREFIX) {
            value.serialize(&mut FixedOpaqueWriter(self))
        } else {
            value.serialize(self)
        }
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        value: &T,
    ) -> Result<(), XdrError> {
        self.u32(index);
        value.serialize(self)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self, XdrError> {
        let len = len.ok_or(XdrError::Unsupported("sequence of unknown length"))?;
        self.u32(u32::try_from(len).map_err(|_| XdrError::OutOfRange)?);
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, XdrError> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, XdrError> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, XdrError> {
        self.u32(index);
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, XdrError> {
        Err(XdrError::Unsupported("maps"))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, XdrError> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, XdrError> {
        self.u32(index);
        Ok(self)
    }
}

macro_rules! compound_ser {
    ($($tr:ident :: $m:ident),*) => {$(
        impl ser::$tr for &mut Serializer<'_> {
            type Ok = ();
            type Error = XdrError;
            fn $m<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), XdrError> {
                value.serialize(&mut **self)
            }
            fn end(self) -> Result<(), XdrError> {
                Ok(())
            }
        }
    )*};
}
compound_ser!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeStruct for &mut Serializer<'_> {
    type Ok = ();
    type Error = XdrError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _: &'static str,
        value: &T,
    ) -> Result<(), XdrError> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), XdrError> {
        Ok(())
    }
}

impl ser::SerializeStructVariant for &mut Serializer<'_> {
    type Ok = ();
    type Error = XdrError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _: &'static str,
        value: &T,
    ) -> Result<(), XdrError> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), XdrError> {
        Ok(())
    }
}

/// The XDR deserializer over a borrowed message body.
pub struct Deserializer<'de> {
    input: &'de [u8],
    pos: usize,
}

impl<'de> Deserializer<'de> {
    fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }
    fn take(&mut self, n: usize) -> Result<&'de [u8], XdrError> {
        if n > self.remaining() {
            return Err(XdrError::Truncated);
        }
        let s = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn word<const N: usize>(&mut self) -> Result<[u8; N], XdrError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32, XdrError> {
        Ok(u32::from_be_bytes(self.word()?))
    }
    fn i32(&mut self) -> Result<i32, XdrError> {
        Ok(i32::from_be_bytes(self.word()?))
    }
    /// A padded run of `len` bytes whose length was already read.
    fn padded(&mut self, len: usize, max: usize) -> Result<&'de [u8], XdrError> {
        if len > max {
            return Err(XdrError::TooLong { len, max });
        }
        // Checked before slicing: `len` comes from the peer.
        let total = len.checked_add(pad_len(len)).ok_or(XdrError::Truncated)?;
        if total > self.remaining() {
            return Err(XdrError::Truncated);
        }
        let s = self.take(len)?;
        self.take(pad_len(len))?;
        Ok(s)
    }
    fn opaque(&mut self, max: usize) -> Result<&'de [u8], XdrError> {
        let len = self.u32()? as usize;
        self.padded(len, max)
    }
}

macro_rules! de_int {
    ($($m:ident => $visit:ident: $t:ty, $read:ident;)*) => {$(
        fn $m<V: Visitor<'de>>(self, v: V) -> Result<V::Value, XdrError> {
            let raw = self.$read()?;
            v.$visit(<$t>::try_from(raw).map_err(|_| XdrError::OutOfRange)?)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for &mut Deserializer<'de> {
    type Error = XdrError;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, XdrError> {
        Err(XdrError::Unsupported("self-describing reads"))
    }
    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, XdrError> {
        // rpcgen's xdr_bool reads any non-zero word as true.
        v.visit_bool(self.u32()? != 0)
    }
    de_int! {
        deserialize_i8 => visit_i8: i8, i32;
        deserialize_i16 => visit_i16: i16, i32;
        deserialize_u8 => visit_u8: u8, u32;
        deserialize_u16 => visit_u16: u16, u32;
    }
    fn deserialize_i32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, XdrError> {
        v.visit_i32(self.i32()?)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, XdrError> {
        v.visit_u32(self.u32()?)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, XdrError> {
        v.visit_i64(i64::from_be_bytes(self.word()?))
    }
    fn deserialize_u64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, XdrError> {
        v.visit_u64(u64::from_be_bytes(self.word()?))
    }
    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, XdrError> {
        v.visit_f32(f32::from_be_bytes(self.word()?))
    }
    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, XdrError> {
        v.visit_f64(f64::from_be_bytes(self.word()?))
    }
    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, XdrError> {
        v.visit_char(char::from_u32(self.u32()?).ok_or(XdrError::OutOfRange)?)
    }
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, XdrError> {
        let bytes = self.opaque(STRING_MAX)?;
        v.visit_borrowed_str(std::str::from_utf8(bytes).map_err(|_| XdrError::InvalidUtf8)?)
    }
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, XdrError> {
        self.deserialize_str(v)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, XdrError> {
        let bytes = self.opaque(usize::MAX)?;
        v.visit_borrowed_bytes(bytes)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, XdrError> {
        self.deserialize_bytes(v)
    }
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, XdrError> {
        match self.u32()? {
            0 => v.visit_none(),
            1 => v.visit_some(self),
            other => Err(XdrError::BadOptional(other)),
        }
    }
    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, XdrError> {
        v.visit_unit()
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, XdrError> {
        v.visit_unit()
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, XdrError> {
        match name.strip_prefix(FIXED_OPAQUE_PREFIX) {
            Some(n) => {
                let n: usize = n
                    .parse()
                    .map_err(|_| XdrError::Unsupported("fixed opaque name"))?;
                let bytes = self.padded(n, n)?;
                v.visit_borrowed_bytes(bytes)
            }
            None => v.visit_newtype_struct(self),
        }
    }
    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, XdrError> {
        let count = self.u32()? as usize;
        // Every XDR item takes at least 4 bytes: a count the rest of the
        // message cannot hold is a lie, refused before any allocation.
        if count > self.remaining() / 4 {
            return Err(XdrError::Truncated);
        }
        v.visit_seq(Counted {
            de: self,
            left: count,
        })
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value, XdrError> {
        v.visit_seq(Counted {
            de: self,
            left: len,
        })
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        len: usize,
        v: V,
    ) -> Result<V::Value, XdrError> {
        v.visit_seq(Counted {
            de: self,
            left: len,
        })
    }
    fn deserialize_map<V: Visitor<'de>>(self, _: V) -> Result<V::Value, XdrError> {
        Err(XdrError::Unsupported("maps"))
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, XdrError> {
        v.visit_seq(Counted {
            de: self,
            left: fields.len(),
        })
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, XdrError> {
        v.visit_enum(self)
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, XdrError> {
        self.deserialize_u32(v)
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, XdrError> {
        Err(XdrError::Unsupported("skipping unknown data"))
    }
}

struct Counted<'a, 'de> {
    de: &'a mut Deserializer<'de>,
    left: usize,
}

impl<'de> SeqAccess<'de> for Counted<'_, 'de> {
    type Error = XdrError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, XdrError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

impl<'de> de::EnumAccess<'de> for &mut Deserializer<'de> {
    type Error = XdrError;
    type Variant = Self;
    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), XdrError> {
        let index = self.u32()?;
        let v = seed.deserialize(index.into_deserializer())?;
        Ok((v, self))
    }
}

impl<'de> de::VariantAccess<'de> for &mut Deserializer<'de> {
    type Error = XdrError;
    fn unit_variant(self) -> Result<(), XdrError> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, XdrError> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value, XdrError> {
        de::Deserializer::deserialize_tuple(self, len, v)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, XdrError> {
        de::Deserializer::deserialize_struct(self, "", fields, v)
    }
}

/// A fixed-length opaque (`opaque x[N]`): N raw bytes, no length word.
/// libvirt's UUID (`remote_uuid`) is `FixedOpaque<16>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FixedOpaque<const N: usize>(pub [u8; N]);

impl<const N: usize> fmt::Debug for FixedOpaque<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// The newtype name that tells the codec "fixed opaque of N bytes".
fn fixed_name(n: usize) -> &'static str {
    match n {
        16 => "__xdr_fixed_opaque_16",
        _ => "__xdr_fixed_opaque_other",
    }
}

impl<const N: usize> Serialize for FixedOpaque<N> {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Raw<'a>(&'a [u8]);
        impl Serialize for Raw<'_> {
            fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(self.0)
            }
        }
        s.serialize_newtype_struct(fixed_name(N), &Raw(&self.0))
    }
}

impl<'de, const N: usize> de::Deserialize<'de> for FixedOpaque<N> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const N: usize>;
        impl<'de, const N: usize> Visitor<'de> for V<N> {
            type Value = FixedOpaque<N>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "{N} opaque bytes")
            }
            fn visit_bytes<E: de::Error>(self, b: &[u8]) -> Result<Self::Value, E> {
                <[u8; N]>::try_from(b)
                    .map(FixedOpaque)
                    .map_err(|_| E::invalid_length(b.len(), &self))
            }
        }
        if fixed_name(N) == "__xdr_fixed_opaque_other" {
            return Err(de::Error::custom("unsupported fixed opaque size"));
        }
        d.deserialize_newtype_struct(fixed_name(N), V::<N>)
    }
}

/// A variable array with libvirt's upper bound (`T x<MAX>`): decoding a
/// longer one is an error.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bounded<T, const MAX: usize>(pub Vec<T>);

impl<T: Serialize, const MAX: usize> Serialize for Bounded<T, MAX> {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.len() > MAX {
            return Err(ser::Error::custom(format!(
                "array of {} exceeds limit {MAX}",
                self.0.len()
            )));
        }
        self.0.serialize(s)
    }
}

impl<'de, T: de::Deserialize<'de>, const MAX: usize> de::Deserialize<'de> for Bounded<T, MAX> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Vec::<T>::deserialize(d)?;
        if v.len() > MAX {
            return Err(de::Error::custom(format!(
                "array of {} exceeds limit {MAX}",
                v.len()
            )));
        }
        Ok(Bounded(v))
    }
}

/// A variable opaque (`opaque x<N>`), as bytes with a length word.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Opaque(pub Vec<u8>);

impl Serialize for Opaque {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> de::Deserialize<'de> for Opaque {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Opaque;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("opaque bytes")
            }
            fn visit_bytes<E: de::Error>(self, b: &[u8]) -> Result<Opaque, E> {
                Ok(Opaque(b.to_vec()))
            }
        }
        d.deserialize_bytes(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::hex::hex;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Dom {
        name: String,
        uuid: FixedOpaque<16>,
        id: i32,
    }

    #[test]
    fn domain_struct_matches_libvirt_bytes() {
        // From the virsh list --all capture: remote_nonnull_domain "test".
        let d = Dom {
            name: "test".into(),
            uuid: FixedOpaque([
                0x66, 0x95, 0xeb, 0x01, 0xf6, 0xa4, 0x83, 0x04, 0x79, 0xaa, 0x97, 0xf2, 0x50, 0x2e,
                0x19, 0x3f,
            ]),
            id: 1,
        };
        let b = to_bytes(&d).unwrap();
        assert_eq!(
            hex(&b),
            "00000004746573746695eb01f6a4830479aa97f2502e193f00000001"
        );
        assert_eq!(from_bytes::<Dom>(&b).unwrap(), d);
    }

    #[test]
    fn string_padding_and_optional() {
        let b = to_bytes(&Some("vz:///system")).unwrap();
        assert_eq!(hex(&b), "000000010000000c767a3a2f2f2f73797374656d");
        let b = to_bytes(&Some("abcde")).unwrap();
        assert_eq!(hex(&b), "00000001000000056162636465000000");
        assert_eq!(to_bytes(&None::<String>).unwrap(), vec![0, 0, 0, 0]);
        assert_eq!(
            from_bytes::<Option<String>>(&b).unwrap().as_deref(),
            Some("abcde")
        );
    }

    #[test]
    fn chars_take_four_bytes() {
        let model: [i8; 3] = [b'x' as i8, b'8' as i8, 0];
        assert_eq!(hex(&to_bytes(&model).unwrap()), "000000780000003800000000");
        let back: [i8; 3] = from_bytes(&to_bytes(&model).unwrap()).unwrap();
        assert_eq!(back, model);
    }

    #[test]
    fn decode_is_total() {
        // Truncated string body.
        assert_eq!(
            from_bytes::<String>(&[0, 0, 0, 8, b'a']),
            Err(XdrError::Truncated)
        );
        // A huge array count is refused before allocating.
        assert_eq!(
            from_bytes::<Vec<u32>>(&[0xff, 0xff, 0xff, 0xff]),
            Err(XdrError::Truncated)
        );
        // A string over the protocol's limit.
        let mut big = vec![0x00, 0x40, 0x00, 0x01];
        big.resize(4 + STRING_MAX + 4, b'a');
        assert!(matches!(
            from_bytes::<String>(&big),
            Err(XdrError::TooLong { .. })
        ));
        // Trailing garbage.
        assert_eq!(
            from_bytes::<u32>(&[0, 0, 0, 1, 9]),
            Err(XdrError::TrailingBytes(1))
        );
        // Bad optional discriminant.
        assert_eq!(
            from_bytes::<Option<u32>>(&[0, 0, 0, 2, 0, 0, 0, 0]),
            Err(XdrError::BadOptional(2))
        );
        // Invalid UTF-8.
        assert_eq!(
            from_bytes::<String>(&[0, 0, 0, 1, 0xff, 0, 0, 0]),
            Err(XdrError::InvalidUtf8)
        );
        // Padding length overflow on 32-bit-ish counts.
        assert_eq!(
            from_bytes::<Opaque>(&[0xff, 0xff, 0xff, 0xfe]),
            Err(XdrError::Truncated)
        );
    }

    #[test]
    fn bounded_arrays_enforce_limits() {
        let b = to_bytes(&vec![1u32, 2, 3]).unwrap();
        assert!(from_bytes::<Bounded<u32, 3>>(&b).is_ok());
        assert!(from_bytes::<Bounded<u32, 2>>(&b).is_err());
    }

    #[test]
    fn hyper_and_bool() {
        let b = to_bytes(&(-2i64, true, u64::MAX)).unwrap();
        assert_eq!(hex(&b), "fffffffffffffffe00000001ffffffffffffffff");
        let (h, t, u): (i64, bool, u64) = from_bytes(&b).unwrap();
        assert_eq!((h, t, u), (-2, true, u64::MAX));
    }
}
