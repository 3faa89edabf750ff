using AkkaPortShare.Protocol.Framing;

namespace AkkaPortShare.Protocol.Tests.Framing;

public sealed class KnownEncodingsAndFaultsTests
{
    [Theory]
    [InlineData(0x00, "text/xml; charset=utf-8")]
    [InlineData(0x01, "text/xml; charset=utf16")]
    [InlineData(0x02, "text/xml; charset=unicodeFFFE")]
    [InlineData(0x03, "application/soap+xml; charset=utf-8")]
    [InlineData(0x04, "application/soap+xml; charset=utf16")]
    [InlineData(0x05, "application/soap+xml; charset=unicodeFFFE")]
    [InlineData(0x06, "multipart/related")]
    [InlineData(0x07, "application/soap+msbin1")]
    [InlineData(0x08, "application/soap+msbinsession1")]
    public void Known_ids_map_both_ways(byte id, string contentType)
    {
        Assert.Equal(contentType, KnownEncodings.ContentTypeOf(id));
        Assert.True(KnownEncodings.TryGetId(contentType, out byte found));
        Assert.Equal(id, found);
    }

    [Fact]
    public void Lookups_are_exact()
    {
        Assert.Equal(KnownEncodings.BinarySessionContentType, KnownEncodings.ContentTypeOf(KnownEncodings.BinarySession));
        Assert.Null(KnownEncodings.ContentTypeOf(0x09));
        Assert.Null(KnownEncodings.ContentTypeOf(0xFF));
        Assert.False(KnownEncodings.TryGetId("APPLICATION/SOAP+MSBINSESSION1", out _));
        Assert.False(KnownEncodings.TryGetId("application/soap+msbinsession1+gzip", out _));
        Assert.False(KnownEncodings.TryGetId("text/xml;charset=utf-8", out _));
        Assert.Equal(9, KnownEncodings.Count);
    }

    [Fact]
    public void Fault_uris_have_the_wcf_spelling()
    {
        Assert.Equal("http://schemas.microsoft.com/ws/2006/05/framing/faults/", FramingFaults.Prefix);
        Assert.Equal("http://schemas.microsoft.com/ws/2006/05/framing/faults/EndpointNotFound", FramingFaults.EndpointNotFound);
        Assert.Equal(FramingFaults.Prefix + "MaxMessageSizeExceededFault", FramingFaults.MaxMessageSizeExceeded);

        string[] all =
        [
            FramingFaults.EndpointNotFound, FramingFaults.EndpointUnavailable, FramingFaults.ServerTooBusy,
            FramingFaults.ConnectionDispatchFailed, FramingFaults.ServiceActivationFailed, FramingFaults.ContentTypeInvalid,
            FramingFaults.ContentTypeTooLong, FramingFaults.ViaTooLong, FramingFaults.MaxMessageSizeExceeded,
            FramingFaults.UnsupportedMode, FramingFaults.UnsupportedVersion, FramingFaults.UpgradeInvalid,
        ];
        Assert.Equal(all.Length, all.Distinct().Count());
        Assert.All(all, f => Assert.StartsWith(FramingFaults.Prefix, f, StringComparison.Ordinal));
        Assert.All(all, f => Assert.True(f.Length <= FramingLimits.MaxFaultSize));
    }

    [Fact]
    public void Record_and_mode_bytes_match_the_protocol()
    {
        Assert.Equal(0x00, (byte)FramingRecordType.Version);
        Assert.Equal(0x06, (byte)FramingRecordType.SizedEnvelope);
        Assert.Equal(0x0C, (byte)FramingRecordType.PreambleEnd);
        Assert.Equal(0x02, (byte)FramingMode.Duplex);
        Assert.Equal(0x04, (byte)FramingMode.SingletonSized);
    }
}
