using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AkkaPortShare.Interop;

namespace AkkaPortShare.Router.Control;

/// <summary>The other end of <see cref="ControlServer"/>: what `akkaportshare status` and `--takeover` call.</summary>
internal static class ControlClient
{
    private const int MaxReply = 16 * 1024 * 1024; // a status of many thousand registrations; more is not a router

    /// <summary>The first of <paramref name="candidates"/> a router answers on, or null (none exists or listens).</summary>
    public static Socket? Connect(IEnumerable<string> candidates, out string? path)
    {
        foreach (var candidate in candidates)
        {
            if (!File.Exists(candidate)) continue;
            try
            {
                var socket = UnixHandover.Connect(candidate);
                path = candidate;
                return socket;
            }
            catch (SocketException)
            {
                // Left behind by a router that is gone (ECONNREFUSED), or not ours to use (EACCES): try the next.
            }
        }
        path = null;
        return null;
    }

    public static async Task<RouterStatusReport> StatusAsync(Socket control, TimeSpan timeout)
    {
        var reply = await Ask(control, ControlProtocol.Status, timeout);
        return Parse<RouterStatusReport>(reply);
    }

    /// <summary>Takes the router's listening socket; the router then drains and exits (wait for <see cref="ListenerHandedOver.ProcessId"/>).</summary>
    /// <exception cref="ControlException">The router refused or did not send a socket.</exception>
    public static (Socket Listener, ListenerHandedOver Answer) TakeListener(Socket control, TimeSpan timeout)
    {
        control.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        UnixHandover.Send(control, Encoding.ASCII.GetBytes(ControlProtocol.TakeListener));
        var buffer = new byte[UnixHandover.MaxMessageSize];
        using var cts = new CancellationTokenSource(timeout);
        var read = UnixHandover.Receive(control, buffer, out var listener, cts.Token);
        var reply = buffer.AsSpan(0, read).ToArray();
        if (listener is null) throw new ControlException(ErrorOf(reply) ?? "The router answered without a socket.");
        return (listener, Parse<ListenerHandedOver>(reply));
    }

    private static async Task<byte[]> Ask(Socket control, string command, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await control.SendAsync(Encoding.ASCII.GetBytes(command), SocketFlags.None, cts.Token);
        using var reply = new MemoryStream();
        var buffer = new byte[UnixHandover.MaxMessageSize];
        int read;
        while ((read = await control.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
        {
            if (reply.Length + read > MaxReply) throw new ControlException($"The router's answer exceeds {MaxReply} bytes.");
            reply.Write(buffer, 0, read);
        }
        return reply.ToArray();
    }

    private static T Parse<T>(byte[] reply)
    {
        if (reply.Length == 0)
            throw new ControlException("The router closed the control connection without answering (only its user and root may use it).");
        if (ErrorOf(reply) is { } error) throw new ControlException(error);
        try
        {
            return JsonSerializer.Deserialize<T>(reply, ControlProtocol.Json)
                ?? throw new ControlException("The router's answer is empty.");
        }
        catch (JsonException e)
        {
            throw new ControlException($"The router's answer is not what this version expects: {e.Message}");
        }
    }

    private static string? ErrorOf(byte[] reply)
    {
        try
        {
            using var document = JsonDocument.Parse(reply);
            return document.RootElement.ValueKind == JsonValueKind.Object
                   && document.RootElement.TryGetProperty("error", out var error) ? error.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

internal sealed class ControlException(string message) : Exception(message);
