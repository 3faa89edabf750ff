using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.IntegrationTests.Harness;

namespace AkkaPortShare.IntegrationTests.Routing;

/// <summary>The router and two workers as real processes, spoken to over real sockets.</summary>
public sealed class SharedPortSpec(SharedPortFixture fixture) : IClassFixture<SharedPortFixture>
{
    private PortShareHost Host => fixture.Host;

    [Theory]
    [InlineData("a/svc", "worker-A")]
    [InlineData("b/svc", "worker-B")]
    [InlineData("A/deeper/path/Svc", "worker-A")]
    public async Task Each_path_reaches_its_own_worker(string path, string expectedWorker)
    {
        using var client = await FramingClient.ConnectAsync(Host.Port);
        Assert.Null(await client.OpenAsync(Host.Via(path)));
        Assert.Equal(expectedWorker, await client.CallAsync("whoami"));
        Assert.Equal("hello", await client.CallAsync("hello"));
        await client.CloseSessionAsync();
    }

    [Fact]
    public async Task Unknown_path_gets_the_EndpointNotFound_fault_bytes()
    {
        using var client = await FramingClient.ConnectAsync(Host.Port);
        await client.SendRawAsync(FramingWriter.Preamble(FramingMode.Duplex, Host.Via("nobody/here")));
        Assert.Equal(FramingWriter.Fault(FramingFaults.EndpointNotFound), await client.ReadToEndAsync());
    }

    [Fact]
    public async Task A_second_worker_registering_a_taken_address_is_refused()
    {
        using var intruder = Host.StartWorkerProcess("intruder", "a/");
        var line = await intruder.WaitForLineAsync("refused", TimeSpan.FromSeconds(60));
        Assert.Contains("AddressAlreadyInUse", line);
        Assert.Contains("already in use", line);

        // The owner keeps the address.
        using var client = await FramingClient.ConnectAsync(Host.Port);
        Assert.Null(await client.OpenAsync(Host.Via("a/svc")));
        Assert.Equal("worker-A", await client.CallAsync("whoami"));
    }

    [Fact]
    public async Task Many_messages_on_one_session_all_echo_in_order()
    {
        using var client = await FramingClient.ConnectAsync(Host.Port);
        Assert.Null(await client.OpenAsync(Host.Via("b/svc")));
        for (var i = 0; i < 200; i++) Assert.Equal($"message {i}", await client.CallAsync($"message {i}"));
        await client.CloseSessionAsync();
    }

    [Fact]
    public async Task A_pooled_connection_moves_between_workers_on_its_next_preamble()
    {
        using var client = await FramingClient.ConnectAsync(Host.Port);
        foreach (var (path, worker) in new[] { ("a/svc", "worker-A"), ("b/svc", "worker-B"), ("a/svc", "worker-A"), ("nobody/", null) })
        {
            var fault = await client.OpenAsync(Host.Via(path));
            if (worker is null)
            {
                Assert.Equal(FramingFaults.EndpointNotFound, fault);
                break;
            }
            Assert.Null(fault);
            Assert.Equal(worker, await client.CallAsync("whoami"));
            await client.CloseSessionAsync();
        }
    }

    [Fact]
    public async Task A_pooled_connection_reused_for_another_address_of_the_same_worker_works()
    {
        using var client = await FramingClient.ConnectAsync(Host.Port);
        foreach (var path in new[] { "a/one", "a/two", "a/one" })
        {
            Assert.Null(await client.OpenAsync(Host.Via(path)));
            Assert.Equal("worker-A", await client.CallAsync("whoami"));
            await client.CloseSessionAsync();
        }
    }

    [Theory]
    [InlineData(new byte[] { 0x00, 0x02, 0x00, 0x01, 0x02 }, FramingFaults.UnsupportedVersion)]
    [InlineData(new byte[] { 0x00, 0x01, 0x00, 0x01, 0x07 }, FramingFaults.UnsupportedMode)]
    public async Task Bad_version_or_mode_gets_its_fault_and_the_router_keeps_serving(byte[] preamble, string fault)
    {
        using (var bad = await FramingClient.ConnectAsync(Host.Port))
        {
            await bad.SendRawAsync(preamble);
            Assert.Equal(FramingWriter.Fault(fault), await bad.ReadToEndAsync());
        }
        using var good = await FramingClient.ConnectAsync(Host.Port);
        Assert.Null(await good.OpenAsync(Host.Via("a/svc")));
        Assert.Equal("ok", await good.CallAsync("ok"));
    }

    [Fact]
    public async Task Garbage_and_a_too_long_via_are_closed_without_a_fault()
    {
        using (var garbage = await FramingClient.ConnectAsync(Host.Port))
        {
            await garbage.SendRawAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray());
            Assert.Empty(await garbage.ReadToEndAsync());
        }
        using (var longVia = await FramingClient.ConnectAsync(Host.Port))
        {
            await longVia.SendRawAsync(FramingWriter.Preamble(FramingMode.Duplex, Host.Via("a/" + new string('x', 2100))));
            Assert.Empty(await longVia.ReadToEndAsync());
        }
        using var good = await FramingClient.ConnectAsync(Host.Port);
        Assert.Null(await good.OpenAsync(Host.Via("b/svc")));
    }
}
