using System.Buffers;
using System.IO.Pipelines;

namespace AkkaPortShare.Worker.Sessions;

/// <summary>
/// A streamed (singleton mode) message on its way to the service: the connection writes the envelope's bytes
/// in as they arrive, the service reads them from <see cref="Body"/>. The pipe is bounded, and a write that
/// fills it tells the connection to stop reading the socket until the service catches up, so a 100 MB
/// upload never sits in memory.
/// </summary>
internal sealed class InboundStream
{
    private const long PauseThreshold = 1024 * 1024;
    private const long ResumeThreshold = 256 * 1024;

    private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: PauseThreshold,
        resumeWriterThreshold: ResumeThreshold, useSynchronizationContext: false));
    private bool _readerGone;

    public InboundStream() => Body = _pipe.Reader.AsStream();

    public Stream Body { get; }
    public long Length { get; private set; }

    /// <summary>Writes a piece; the task completes when there is room again (at once, mostly).</summary>
    public ValueTask<FlushResult> WriteAsync(ReadOnlySpan<byte> data)
    {
        Length += data.Length;
        // A service that stopped reading early still needs the rest drained from the socket, not buffered.
        if (_readerGone) return ValueTask.FromResult(new FlushResult(isCanceled: false, isCompleted: true));
        _pipe.Writer.Write(data);
        return _pipe.Writer.FlushAsync();
    }

    public void ReaderGone() => _readerGone = true;

    public void Complete(Exception? error = null) => _pipe.Writer.Complete(error);
}
