"""Golden envelopes: bytes written by format version 1 today. Future versions must keep decoding
them; never regenerate them to make a test pass (an encoder change may write other bytes, which
is fine, as long as these still read back). The one exception is FIELDS_UNAUTHENTICATED below,
refused on purpose because reading it safely is impossible."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from decimal import Decimal
from typing import Any

import pytest

from stratacache import Codec, TamperedDataError
from stratacache.codec import EncryptedField

KEY = "app:v1:golden"
#: The fixed test key of every protected golden envelope.
GOLDEN_KEY = b"golden-key-0123456789abcdefghijk"

VALUE: dict[Any, Any] = {
    "id": 42,
    "name": "Ada \u2713",
    "big": 2**70,
    "neg": -5,
    "pi": 3.25,
    "nz": -0.0,
    "none": None,
    "ok": True,
    "raw": b"\x00\x01",
    "buf": bytearray(b"ba"),
    "t": (1, "two"),
    "s": {3},
    "fs": frozenset({"x"}),
    "when": dt.datetime(2025, 6, 1, 12, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    "zone": dt.datetime(2025, 11, 2, 1, 30, fold=1, tzinfo=zoneinfo.ZoneInfo("America/Chicago")),
    "naive": dt.datetime(2025, 1, 2, 3, 4, 5),
    "day": dt.date(2024, 2, 29),
    "at": dt.time(8, 15),
    "span": dt.timedelta(days=-1, seconds=30),
    "price": Decimal("19.99"),
    "uid": uuid.UUID(int=0x1234),
    7: [1.5, "x"],
}
LARGE = {"rows": [{"sku": i, "name": f"item {i}", "in_stock": i % 3 == 0} for i in range(60)]}
JSON_VALUE = {"a": [1, 2.5, "x", None, True]}
PICKLE_VALUE = {"a": (1, 2), "b": frozenset({3})}

GOLDEN: dict[str, tuple[Any, str]] = {
    "msgpack_plain": (
        VALUE,
        (
            "53430101000000002401000000dc207497010000e093040000000000d204000000000000010775736572"
            "3a34320300000000000000de0016a269642aa46e616d65a741646120e29c93a3626967c7090140000000"
            "0000000000a36e6567fba27069cb400a000000000000a26e7acb8000000000000000a46e6f6e65c0a26f"
            "6bc3a3726177c4020001a3627566d5056261a174c706029201a374776fa173d5039103a26673c7030491"
            "a178a47768656ec7140607e906010c1e0f01e240000100000001ad274800a47a6f6e65c71b0607e90b02"
            "011e000000000102416d65726963612f4368696361676fa56e61697665c70b0607e90102030405000000"
            "00a3646179d60707e8021da26174c70708080f0000000000a47370616ec70c09ffffffff0000001e0000"
            "0000a57072696365c7050a31392e3939a3756964d80b000000000000000000000000000012340792cb3f"
            "f8000000000000a178"
        ),
    ),
    "msgpack_lz4": (
        LARGE,
        (
            "5343010101000000cb06000000dc207497010000e093040000000000d204000000000000010775736572"
            "3a34320300000000000000f11681a4726f7773dc003c83a3736b7500a46e616d65a66974656d2030a869"
            "6e5f73746f636bc31c0017011c0015311c0011c21c0017021c001b321c0017031c0015331c0002540017"
            "041c0015341c0002540017051c001b351c0017061c0015361c0002540017071c0015371c000254001708"
            "1c001b381c0017091c0015391c00025400110a1c0011a7180116311901025500180b1d000c1a01180c1d"
            "00061b01025700180d1d00061c01025700180e1d000c1d01180f1d00061e0102570018101d00061f0102"
            "570018111d000c200118121d0006210102570018131d0006220102570017141d001c32220118151d0006"
            "220102570018161d0006220102570018171d000c220118181d0006220102570018191d00062201025700"
            "181a1d000c2201181b1d00062201025700181c1d00062201025700181d1d000c2201171e1d0016332201"
            "025700181f1d0006220102570018201d000c220118211d0006220102570018221d000622010257001823"
            "1d000c220118241d0006220102570018251d0006220102570018261d000c220118271d00062201025700"
            "17281d001634220102570018291d000c2201182a1d00062201025700182b1d00062201025700182c1d00"
            "0c2201182d1d00062201025700182e1d00062201025700182f1d000c220118301d000622010257001831"
            "1d0006220102570017321d001c35220118331d0006220102570018341d0006220102570018351d000c22"
            "0118361d0006220102570018371d0006220102570018381d000c220118391d00062201025700183a1d00"
            "062201025700183b1d00b039a8696e5f73746f636bc2"
        ),
    ),
    "msgpack_zstd": (
        LARGE,
        (
            "5343010102000000cb06000000dc207497010000e093040000000000d204000000000000010775736572"
            "3a3432030000000000000028b52ffd60cb05ad0800b2cc2e2f40758603c330c6cc0c4300d6781565eb65"
            "95209a52dd86288a221ed344889452ac4c55553333555555555555b3d602ea626db99694641d5d45aad6"
            "bca29ed39ea16471ae3c5532c589f23c491367c99104478c22c71004317e1c3d1064ec3872dc864fe397"
            "7118be8b9fc555f8287e132761db88db42d83ed8d6e1b60db60cb65db8adc226d816e1a5039281470517"
            "11e88053e0187000b6cf51322bd605a33ae984402913eb94634ac5a85a1e1ad48573f3e2d9b96a56332d"
            "9b80a8a821fcfaff06e0a539106212c96deab7422fc2b811c6451817c2b810e3421917625c08e3448c13"
            "31ae88b122863595508324ad913d12a146c8b440f6e8831a1e69b11dbb821c3f11f92824e22381c8078e"
            "ed875d05"
        ),
    ),
    "msgpack_signed": (
        VALUE,
        (
            "5343010100026c562401000000dc207497010000e093040000000000d204000000000000010775736572"
            "3a34320300000000000000de0016a269642aa46e616d65a741646120e29c93a3626967c7090140000000"
            "0000000000a36e6567fba27069cb400a000000000000a26e7acb8000000000000000a46e6f6e65c0a26f"
            "6bc3a3726177c4020001a3627566d5056261a174c706029201a374776fa173d5039103a26673c7030491"
            "a178a47768656ec7140607e906010c1e0f01e240000100000001ad274800a47a6f6e65c71b0607e90b02"
            "011e000000000102416d65726963612f4368696361676fa56e61697665c70b0607e90102030405000000"
            "00a3646179d60707e8021da26174c70708080f0000000000a47370616ec70c09ffffffff0000001e0000"
            "0000a57072696365c7050a31392e3939a3756964d80b000000000000000000000000000012340792cb3f"
            "f8000000000000a178b11f5ca8f5e45f8cd5392e81603794609f619ec1a9741de3e89a4a8f4b6776ab"
        ),
    ),
    "msgpack_encrypted_lz4": (
        LARGE,
        (
            "5343010101016c56cb06000000dc207497010000e093040000000000d204000000000000010775736572"
            "3a343203000000000000000d4fb389b341af1fd48f11d725aaf19f4ec522a1a51ff396c1a56c623c9136"
            "8554e85f0b12f8d8e103be3327042330b66874103ae3a44ed8744315dd673676f1fc7ed22b10df7b07b6"
            "504d73b1d3678dc9e5d8ab46458dd1b915270b769b5f486050873ca9a61cc339cd3e930e9ee130aaf7e2"
            "2622f8896bfa88a75ca7ca6603cae2e50f3c91f061e4570054670cff294558e303d39afd537ceaba8f67"
            "34af28eb4cb6405cdd186507713a1592684ae024b666ccab7a71b1b6d745972916bc1d0f58d9b486552f"
            "720d6c14fae0f985ec4734ba6781b9104561d20d868d05ba6980212a39669505f0de3dc1d7ad856b2961"
            "932f30486123fc24dce6347825bace8179c59edbaf1ff14c751cc7576c4fa073df680097f294380b62b1"
            "b2d82a151dddb7d8a3b78f4ce67212a5b9b2b452d691b305fd6697ded05c6c7f03bec61a67ace90aa874"
            "4fecf4c14ddbb371b5aaa610b66c245a6c2a92abb058a46f0b97a0e8ac88703e7c2e12bcd49aef0b9d64"
            "e9bdba85228c85555a1b7bf2499dcb2b4dd90e79fb4f2ac9a7a91c5aa0b8677637de2fe27b0eab323ddb"
            "0acf313530873ad317cbffa4d2a01b6aa04d0e350e12d3c022ffcfdb1bc9285707370fa68abb45b2f36b"
            "3eb2437d5ab7d4361eab1a641d3d816d8a1698f88d2dc3a70af175388eb4d44a4f1843655a0475b1cda9"
            "8559084ef0a9eca0200c0b69153616fa2fdd7eff987158a956f0c231e3f23de7ea595edf40e533867ad6"
            "58d30c142f92b462bdbf6c5be1ccae2e4e54db9fe3493af78895137a2dc564c8eb63fd25a1a7a9f9515b"
            "ca04c166c908aa5f660b0969f76e5f728f611ee1e57c51874b783c513f604c49c47420c87c56ee306978"
            "c67bb9e0544371ca"
        ),
    ),
    "msgpack_fields_mac": (
        VALUE,
        (
            "5343010100046c564501000000dc207497010000e093040000000000d204000000000000010775736572"
            "3a34320300000000000000de0016a269642aa46e616d65c7260c6c5647f282a6d993307430dce73d8882"
            "b6f4edc702288fd544ebb0b80875aaf37ed11aef44f7a3626967c70901400000000000000000a36e6567"
            "fba27069cb400a000000000000a26e7acb8000000000000000a46e6f6e65c0a26f6bc3a3726177c40200"
            "01a3627566d5056261a174c706029201a374776fa173d5039103a26673c7030491a178a47768656ec714"
            "0607e906010c1e0f01e240000100000001ad274800a47a6f6e65c71b0607e90b02011e00000000010241"
            "6d65726963612f4368696361676fa56e61697665c70b0607e9010203040500000000a3646179d60707e8"
            "021da26174c70708080f0000000000a47370616ec70c09ffffffff0000001e00000000a57072696365c7"
            "050a31392e3939a3756964d80b000000000000000000000000000012340792cb3ff8000000000000a178"
            "2828a5e5bb89857ef0b336812c45d4ddb8e28a62d10eff13ca5f0b08a07b7b04"
        ),
    ),
    "json_signed": (
        JSON_VALUE,
        (
            "5343010200026c561b00000000dc207497010000e093040000000000d204000000000000010775736572"
            "3a343203000000000000007b2261223a5b312c322e352c2278222c6e756c6c2c747275655d7d4d55d2d9"
            "2cb7324117cc1ff09a1fd565ccffe78530ef860f637137c8f0ebc509"
        ),
    ),
    "pickle_signed": (
        PICKLE_VALUE,
        (
            "5343010300026c562300000000dc207497010000e093040000000000d204000000000000010775736572"
            "3a3432030000000000000080059518000000000000007d94288c0161944b014b0286948c016294284b03"
            "9194752e005eaa86cb926c75911ae5648b73b08581258180c7d09d2c259d4427c255aa32"
        ),
    ),
}

CODECS = {
    "msgpack": Codec(),
    "signed": Codec(signing_key=GOLDEN_KEY),
    "encrypted": Codec(encryption_keys=GOLDEN_KEY),
    "fields": Codec(encryption_keys=GOLDEN_KEY, encrypt_fields=["name"]),
    "json": Codec(serializer="json", signing_key=GOLDEN_KEY),
    "pickle": Codec(serializer="pickle", signing_key=GOLDEN_KEY),
}
READER = {
    "msgpack_plain": "msgpack",
    "msgpack_lz4": "msgpack",
    "msgpack_zstd": "msgpack",
    "msgpack_signed": "signed",
    "msgpack_encrypted_lz4": "encrypted",
    "msgpack_fields_mac": "fields",
    "json_signed": "json",
    "pickle_signed": "pickle",
}


#: encrypt_fields as written before whole-envelope authentication (flags 0): only the sealed
#: fields were authenticated, so a codec holding the keys refuses it; one without keys reads it.
FIELDS_UNAUTHENTICATED = (
    "53430101000000004501000000dc207497010000e093040000000000d204000000000000010775736572"
    "3a34320300000000000000de0016a269642aa46e616d65c7260c6c563cbd7459613c8ab380a0742d1720"
    "4b55899d441d3b0bb74c1a1d9e7919fb6056f3f4154ba3626967c70901400000000000000000a36e6567"
    "fba27069cb400a000000000000a26e7acb8000000000000000a46e6f6e65c0a26f6bc3a3726177c40200"
    "01a3627566d5056261a174c706029201a374776fa173d5039103a26673c7030491a178a47768656ec714"
    "0607e906010c1e0f01e240000100000001ad274800a47a6f6e65c71b0607e90b02011e00000000010241"
    "6d65726963612f4368696361676fa56e61697665c70b0607e9010203040500000000a3646179d60707e8"
    "021da26174c70708080f0000000000a47370616ec70c09ffffffff0000001e00000000a57072696365c7"
    "050a31392e3939a3756964d80b000000000000000000000000000012340792cb3ff8000000000000a178"
)


def same(a: Any, b: Any) -> bool:
    return repr(a) == repr(b) and type(a) is type(b)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_envelopes_still_decode(name: str) -> None:
    value, hex_bytes = GOLDEN[name]
    entry = CODECS[READER[name]].decode_entry(KEY, bytes.fromhex(hex_bytes))
    assert entry.value == value
    if isinstance(value, dict):
        assert all(same(entry.value[k], v) for k, v in value.items())
    assert entry.created_at_ms == 1_750_000_000_000
    assert entry.ttl_ms == 300_000
    assert entry.compute_us == 1234
    assert entry.tags == {"user:42": 3}
    assert entry.serializer == name.split("_", maxsplit=1)[0]


def test_golden_compressed_envelopes_are_compressed() -> None:
    for name, algorithm in (("msgpack_lz4", 1), ("msgpack_zstd", 2), ("msgpack_encrypted_lz4", 1)):
        assert bytes.fromhex(GOLDEN[name][1])[4] == algorithm


@pytest.mark.parametrize("hex_bytes", [GOLDEN["msgpack_fields_mac"][1], FIELDS_UNAUTHENTICATED])
def test_golden_sealed_field_needs_its_key(hex_bytes: str) -> None:
    value = Codec().decode(KEY, bytes.fromhex(hex_bytes))
    assert isinstance(value["name"], EncryptedField)
    assert value["id"] == 42


def test_golden_fields_envelope_without_authentication_is_refused() -> None:
    with pytest.raises(TamperedDataError, match="authenticated"):
        CODECS["fields"].decode(KEY, bytes.fromhex(FIELDS_UNAUTHENTICATED))


def test_plain_encoder_still_writes_the_golden_bytes() -> None:
    # Not a compatibility promise (see the module docstring), a tripwire: a change of the
    # uncompressed msgpack layout should be deliberate.
    data = Codec(compression=None).encode_entry(
        KEY,
        VALUE,
        ttl_ms=300_000,
        compute_us=1234,
        tags={"user:42": 3},
        created_at_ms=1_750_000_000_000,
    )
    assert data.hex() == GOLDEN["msgpack_plain"][1]
