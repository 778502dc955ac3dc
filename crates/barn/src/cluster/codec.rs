//! Tonic codecs that carry serde values as JSON inside gRPC frames:
//! [`JsonCodec`] encodes as it sends; [`EncodedJsonCodec`] sends JSON a
//! caller has already encoded (to check its size first).
//!
//! The Raft messages are openraft's own types (serde-enabled), so there is
//! no `.proto` to keep in step with them and no `protoc` at build time. The
//! cost is JSON's size on the wire (docs/adr/007-barn-transport.md).

use std::marker::PhantomData;

use bytes::{Buf, BufMut};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

/// Encodes `E` and decodes `D`, both as JSON.
#[derive(Debug)]
pub(crate) struct JsonCodec<E, D>(PhantomData<fn(E) -> D>);

impl<E, D> Default for JsonCodec<E, D> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<E, D> Codec for JsonCodec<E, D>
where
    E: Serialize + Send + 'static,
    D: DeserializeOwned + Send + 'static,
{
    type Encode = E;
    type Decode = D;
    type Encoder = JsonEncoder<E>;
    type Decoder = JsonDecoder<D>;

    fn encoder(&mut self) -> Self::Encoder {
        JsonEncoder(PhantomData)
    }

    fn decoder(&mut self) -> Self::Decoder {
        JsonDecoder(PhantomData)
    }
}

#[derive(Debug)]
pub(crate) struct JsonEncoder<E>(PhantomData<fn(E)>);

impl<E: Serialize> Encoder for JsonEncoder<E> {
    type Item = E;
    type Error = Status;

    fn encode(&mut self, item: E, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        serde_json::to_writer(dst.writer(), &item)
            .map_err(|e| Status::internal(format!("cannot encode a message: {e}")))
    }
}

#[derive(Debug)]
pub(crate) struct JsonDecoder<D>(PhantomData<fn() -> D>);

impl<D: DeserializeOwned> Decoder for JsonDecoder<D> {
    type Item = D;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<D>, Status> {
        let value = serde_json::from_reader(src.reader())
            .map_err(|e| Status::invalid_argument(format!("cannot decode a message: {e}")))?;
        Ok(Some(value))
    }
}

/// Sends JSON bytes the caller encoded, and decodes `D` from JSON.
#[derive(Debug)]
pub(crate) struct EncodedJsonCodec<D>(PhantomData<fn() -> D>);

impl<D> Default for EncodedJsonCodec<D> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<D> Codec for EncodedJsonCodec<D>
where
    D: DeserializeOwned + Send + 'static,
{
    type Encode = Vec<u8>;
    type Decode = D;
    type Encoder = BytesEncoder;
    type Decoder = JsonDecoder<D>;

    fn encoder(&mut self) -> Self::Encoder {
        BytesEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        JsonDecoder(PhantomData)
    }
}

#[derive(Debug)]
pub(crate) struct BytesEncoder;

impl Encoder for BytesEncoder {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}
