using AkkaPortShare.Protocol.Handover;

namespace AkkaPortShare.Protocol.Tests.Handover;

public sealed class SessionRouteKeySpec
{
    [Fact]
    public void A_sequence_id_made_with_a_key_gives_the_key_back_and_is_a_uuid_urn_like_WCFs()
    {
        var key = SessionRouteKey.ForWorker("/run/akkaportshare/worker-42-0123456789abcdef0123456789abcdef.sock");
        var id = key.NewSequenceId();

        Assert.StartsWith("urn:uuid:", id);
        Assert.True(Guid.TryParse(id["urn:uuid:".Length..], out _));
        Assert.True(SessionRouteKey.TryReadFrom(id, out var read));
        Assert.Equal(key, read);
        Assert.NotEqual(id, key.NewSequenceId()); // the other bits are random
        Assert.Equal('8', id["urn:uuid:".Length + 14]); // version 8 (custom), not WCF's version 4
    }

    [Fact]
    public void A_clients_own_random_identifier_names_no_worker()
    {
        for (var i = 0; i < 100; i++) Assert.False(SessionRouteKey.TryReadFrom($"urn:uuid:{Guid.NewGuid()}", out _));
    }

    [Fact]
    public void Two_workers_get_different_keys_and_the_same_path_always_the_same()
    {
        var a = SessionRouteKey.ForWorker("/run/a/worker-1-00000000000000000000000000000001.sock");
        Assert.Equal(a, SessionRouteKey.ForWorker("/run/a/worker-1-00000000000000000000000000000001.sock"));
        Assert.NotEqual(a, SessionRouteKey.ForWorker("/run/a/worker-2-00000000000000000000000000000002.sock"));
    }

    [Theory]
    [InlineData("http://example.org/seq/1")]
    [InlineData("urn:uuid:not-a-guid")]
    [InlineData("")]
    [InlineData("urn:uuid:")]
    public void An_identifier_not_of_the_uuid_form_names_no_worker(string id) =>
        Assert.False(SessionRouteKey.TryReadFrom(id, out _));

    [Fact]
    public void A_session_move_frame_carries_the_key_and_the_bytes_and_is_not_read_as_a_connection()
    {
        var key = new SessionRouteKey(0x0023456789abcdefUL);
        var buffer = new byte[64];
        var length = HandoverFrame.WriteSessionMove(buffer, key, [1, 2, 3]);

        Assert.True(HandoverFrame.TryReadSessionMove(buffer.AsSpan(0, length), out var holder, out var bytes));
        Assert.Equal(key, holder);
        Assert.Equal(new byte[] { 1, 2, 3 }, bytes.ToArray());
        Assert.False(HandoverFrame.TryRead(buffer.AsSpan(0, length), out _, out _));
        Assert.False(HandoverFrame.TryReadSessionMove(buffer.AsSpan(0, 5), out _, out _)); // too short for a key
    }

    [Fact]
    public void A_resumed_connection_is_read_as_such_by_a_worker_and_never_accepted_from_one_by_the_router()
    {
        var buffer = new byte[16];
        var length = HandoverFrame.Write(buffer, [9, 8], resumed: true);

        Assert.True(HandoverFrame.TryRead(buffer.AsSpan(0, length), out var bytes, out var resumed));
        Assert.True(resumed);
        Assert.Equal(new byte[] { 9, 8 }, bytes.ToArray());
        Assert.False(HandoverFrame.TryRead(buffer.AsSpan(0, length), out _)); // the router's reading of a worker's frame
    }
}
