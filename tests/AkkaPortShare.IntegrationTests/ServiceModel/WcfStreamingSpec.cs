using System.ServiceModel;

namespace AkkaPortShare.IntegrationTests.ServiceModel;

/// <summary>TransferMode.Streamed with the real WCF client: 100 MB each way, never held whole by the worker.</summary>
public sealed class WcfStreamingSpec(WcfFixture fixture) : IClassFixture<WcfFixture>
{
    private const long HundredMegabytes = 100L * 1024 * 1024;

    private IStreamService Open(out ChannelFactory<IStreamService> factory)
    {
        var binding = new NetTcpBinding(SecurityMode.None)
        {
            TransferMode = TransferMode.Streamed,
            MaxReceivedMessageSize = long.MaxValue,
            SendTimeout = TimeSpan.FromMinutes(2),
            ReceiveTimeout = TimeSpan.FromMinutes(2),
        };
        factory = new ChannelFactory<IStreamService>(binding, new EndpointAddress(fixture.Streams));
        return factory.CreateChannel();
    }

    [Fact]
    public void A_100_MB_request_stream_and_a_100_MB_reply_stream_pass_without_being_held()
    {
        var baseline = PeakResidentBytes(fixture.StreamWorker.Id);
        var streams = Open(out var factory);

        Assert.Equal(HundredMegabytes, streams.Upload(new PatternStream(HundredMegabytes)));

        using (var download = streams.Download(HundredMegabytes))
            Assert.Equal(HundredMegabytes, CountVerified(download));
        factory.Close();

        // Holding either message would add 100 MB to the worker's peak; streaming through bounded pipes does not.
        var growth = PeakResidentBytes(fixture.StreamWorker.Id) - baseline;
        Assert.True(growth < 50L * 1024 * 1024, $"the worker's peak resident memory grew by {growth / 1024 / 1024} MB");
    }

    [Fact]
    public void Small_and_empty_streams_work_too()
    {
        var streams = Open(out var factory);
        Assert.Equal(0, streams.Upload(new MemoryStream()));
        Assert.Equal(10, streams.Upload(new MemoryStream(new byte[10])));
        using (var empty = streams.Download(0)) Assert.Equal(0, CountVerified(empty));
        using (var small = streams.Download(1000)) Assert.Equal(1000, CountVerified(small));
        factory.Close();
    }

    private static long CountVerified(Stream stream)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        for (int n; (n = stream.Read(buffer, 0, buffer.Length)) > 0; total += n)
            for (var i = 0; i < n; i++)
                if (buffer[i] != (byte)((total + i) % 251)) throw new InvalidDataException($"byte {total + i} is wrong");
        return total;
    }

    private static long PeakResidentBytes(int pid) =>
        long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM:"))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;

    /// <summary>The same pattern the sample's Download produces: byte i is (byte)(i % 251), generated, never stored.</summary>
    private sealed class PatternStream(long length) : Stream
    {
        private long _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            for (var i = 0; i < n; i++) buffer[offset + i] = (byte)((_position + i) % 251);
            _position += n;
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
