using System.Buffers;
using System.Net.Sockets;
using AkkaPortShare.Interop.Sockets;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.Router.Configuration;

namespace AkkaPortShare.Router.Connections;

/// <summary>
/// The preamble bytes read from one connection so far and their decoding. Whoever reads first creates it (the
/// listener, from what had arrived when it took the socket or from what a worker handed back) and the
/// <see cref="ConnectionActor"/> goes on from there: each byte is decoded exactly once.
/// </summary>
/// <remarks>
/// The buffer comes from the shared pool and goes back with <see cref="Return"/> (the connection actor's job, once
/// it no longer needs the bytes). Not thread-safe: it belongs to one actor at a time.
/// </remarks>
internal sealed class PreambleRead
{
    private readonly PreambleDecoder _decoder;
    private byte[]? _buffer;
    private int _decoded;

    private PreambleRead(RouterSettings settings, int atLeast)
    {
        _decoder = new PreambleDecoder(settings.MaxViaSize, settings.MaxContentTypeSize);
        // Room for the largest valid preamble: the decoder refuses anything longer before the buffer fills.
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(atLeast, BufferSize(settings)));
    }

    public PreambleDecoder Decoder => _decoder;

    /// <summary>How many bytes the buffer holds (all of them decoded, or refused by the decoder).</summary>
    public int Filled { get; private set; }

    /// <summary>The via and encoding are known (route now), or the bytes are bad: nothing the client sends changes it.</summary>
    public bool Decided => _decoder.Stage is PreambleStage.Failed or PreambleStage.AfterEncoding or PreambleStage.Complete;

    /// <summary>Where the next bytes go; empty when the buffer is full.</summary>
    public Span<byte> Free => _buffer.AsSpan(Filled);

    /// <summary>The bytes read so far, for the worker (it decodes the preamble again in its own process).</summary>
    public byte[] ToArray() => _buffer.AsSpan(0, Filled).ToArray();

    /// <summary>Nothing read yet.</summary>
    public static PreambleRead Empty(RouterSettings settings) => new(settings, 0);

    /// <summary>Bytes read before the connection actor exists: a worker's hand-back.</summary>
    public static PreambleRead From(ReadOnlySpan<byte> alreadyRead, RouterSettings settings)
    {
        var read = new PreambleRead(settings, alreadyRead.Length);
        alreadyRead.CopyTo(read._buffer);
        read.Decode(alreadyRead.Length);
        return read;
    }

    /// <summary>
    /// What the client sent before its socket was taken, read without waiting. A socket error leaves it empty: the
    /// connection actor's own read meets it and closes.
    /// </summary>
    public static PreambleRead WhatArrived(Socket socket, RouterSettings settings)
    {
        var read = Empty(settings);
        read.TakeWhatArrived(socket);
        return read;
    }

    /// <summary>
    /// Reads and decodes what waits in the socket, without waiting: false when nothing did (the end of the stream,
    /// an error, or a wake-up without bytes), which the connection actor's own read then meets.
    /// </summary>
    public bool TakeWhatArrived(Socket socket)
    {
        var count = WaitingBytes.Take(socket, Free);
        if (count <= 0) return false;
        Decode(count);
        return true;
    }

    /// <summary>Decodes <paramref name="count"/> bytes just written to <see cref="Free"/>.</summary>
    public void Decode(int count)
    {
        Filled += count;
        _decoded += _decoder.Decode(_buffer.AsSpan(_decoded, Filled - _decoded));
    }

    public void Return()
    {
        if (_buffer is null) return;
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = null;
    }

    private static int BufferSize(RouterSettings settings) => settings.MaxViaSize + settings.MaxContentTypeSize + 64;
}
