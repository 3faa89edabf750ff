using Akka.Actor;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.Samples.Echo;

/// <summary>The actor implementing <see cref="IStreamService"/>. Streams are read off the actor thread.</summary>
public sealed class WcfStreamService : ReceiveActor
{
    public WcfStreamService()
    {
        Receive<OperationInvoked>(op => op.Operation == nameof(IStreamService.Upload),
            op => CountAsync((Stream)op.Arguments[0]!).PipeTo(Sender, success: count => new OperationResult(count)));
        Receive<OperationInvoked>(op => op.Operation == nameof(IStreamService.Download),
            op => Sender.Tell(new OperationResult(new PatternStream((long)op.Arguments[0]!))));
        Receive<SessionStarted>(_ => { });
        Receive<SessionEnded>(_ => { });
    }

    private static async Task<long> CountAsync(Stream data)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        for (int n; (n = await data.ReadAsync(buffer)) > 0;) total += n;
        return total;
    }
}

/// <summary>A read-only stream of a given length whose byte i is (byte)(i % 251): big, and never in memory.</summary>
public sealed class PatternStream(long length) : Stream
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
