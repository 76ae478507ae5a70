"""Realistic inputs carrying rights and private metadata: a phone JPEG (EXIF with GPS and a camera
serial, XMP rights, IPTC IIM) and a PNG with XMP, as cameras, phones and DAM tools write them."""

from __future__ import annotations

import io
import struct

from PIL import Image, ImageCms, PngImagePlugin

CREATOR = "Ana Müller"
COPYRIGHT = "© 2026 Ana Müller Studio"
CREDIT = "Ana Müller / Studio Nord"
USAGE = "Licensed to Shop GmbH for e-commerce listings only"
WEB = "https://studio-nord.example/licence"
SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"
SERIAL = "SN-4F2C-99817"
GPS_LATITUDE_TEXT = "52,31.2N"
EMAIL = "ana@studio-nord.example"

# What a DAM tool writes: rights in XMP, next to private fields a phone or an editor adds.
PHONE_XMP = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/"
    xmlns:Iptc4xmpCore="http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/"
    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmlns:aux="http://ns.adobe.com/exif/1.0/aux/"
    photoshop:Credit="{CREDIT}"
    Iptc4xmpExt:DigitalSourceType="{SOURCE_TYPE}"
    exif:GPSLatitude="{GPS_LATITUDE_TEXT}"
    exif:GPSLongitude="13,24.6E"
    aux:SerialNumber="{SERIAL}">
   <dc:creator><rdf:Seq><rdf:li>{CREATOR}</rdf:li></rdf:Seq></dc:creator>
   <dc:rights><rdf:Alt><rdf:li xml:lang="de">© 2026 Ana Müller Studio (de)</rdf:li>
     <rdf:li xml:lang="x-default">{COPYRIGHT}</rdf:li></rdf:Alt></dc:rights>
   <xmpRights:UsageTerms><rdf:Alt><rdf:li xml:lang="x-default">{USAGE}</rdf:li></rdf:Alt>
   </xmpRights:UsageTerms>
   <xmpRights:WebStatement>{WEB}</xmpRights:WebStatement>
   <Iptc4xmpCore:CreatorContactInfo rdf:parseType="Resource">
    <Iptc4xmpCore:CiEmailWork>{EMAIL}</Iptc4xmpCore:CiEmailWork>
   </Iptc4xmpCore:CreatorContactInfo>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>""".encode()


def srgb() -> bytes:
    return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())


def phone_exif(image: Image.Image) -> Image.Exif:
    """A phone's EXIF: make, model, serial, capture time, GPS, and the photographer in Artist/Copyright."""
    exif = image.getexif()
    exif[0x010F] = "Phonemaker"  # Make
    exif[0x0110] = "Phone 15 Pro"  # Model
    exif[0x013B] = CREATOR  # Artist
    exif[0x8298] = COPYRIGHT  # Copyright
    detail = exif.get_ifd(0x8769)
    detail[0xA431] = SERIAL  # BodySerialNumber
    detail[0x9003] = "2026:11:30 10:21:07"  # DateTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (52.0, 31.0, 12.0)
    gps[3], gps[4] = "E", (13.0, 24.0, 36.0)
    return exif


def iptc_app13(byline: str, credit: str, notice: str) -> bytes:
    """An APP13 "Photoshop 3.0" segment with IPTC IIM datasets (UTF-8), as Photoshop writes it."""

    def dataset(record: int, number: int, value: bytes) -> bytes:
        return struct.pack(">BBBH", 0x1C, record, number, len(value)) + value

    iim = dataset(1, 90, b"\x1b%G") + b"".join(
        dataset(2, number, text.encode()) for number, text in ((80, byline), (110, credit), (116, notice))
    )
    if len(iim) % 2:
        iim += b"\0"
    block = b"8BIM" + struct.pack(">H", 0x0404) + b"\0\0" + struct.pack(">I", len(iim)) + iim
    body = b"Photoshop 3.0\0" + block
    return b"\xff\xed" + struct.pack(">H", len(body) + 2) + body


def with_segment(jpeg: bytes, segment: bytes) -> bytes:
    """``segment`` inserted right after the JPEG's SOI marker."""
    return jpeg[:2] + segment + jpeg[2:]


def phone_jpeg(*, xmp: bool = True, iim: bool = False, size: tuple[int, int] = (1200, 900)) -> bytes:
    """An sRGB phone JPEG with EXIF (GPS, serial, Artist, Copyright) and, if asked, XMP and IPTC IIM."""
    image = Image.new("RGB", size, (180, 40, 40))
    buffer = io.BytesIO()
    extra: dict[str, object] = {"xmp": PHONE_XMP} if xmp else {}
    image.save(buffer, "JPEG", quality=90, exif=phone_exif(image), icc_profile=srgb(), **extra)
    data = buffer.getvalue()
    return with_segment(data, iptc_app13(CREATOR, CREDIT, COPYRIGHT)) if iim else data


def xmp_png(size: tuple[int, int] = (800, 600)) -> bytes:
    """A PNG with an XMP packet (iTXt XML:com.adobe.xmp), as a DAM exports it."""
    image = Image.new("RGB", size, (40, 40, 180))
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", PHONE_XMP.decode(), zip=False)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()
