using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AkkaPortShare.Protocol.Framing;
using AkkaPortShare.IntegrationTests.Harness;
using Xunit.Abstractions;

using static AkkaPortShare.IntegrationTests.Harness.OtherUsers;

namespace AkkaPortShare.IntegrationTests.Reliability;

/// <summary>
/// Who may register, end to end: the router checks the user behind a worker's hand-over socket against
/// allowed-worker-users (default: its own user and root), asks for registration-secret when one is set, and
/// listens for workers on loopback only unless told otherwise.
/// </summary>
public sealed class AuthorisationSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_worker_whose_user_is_not_allowed_is_refused_and_its_address_stays_unrouted()
    {
        using var host = new PortShareHost();
        await host.StartRouterAsync(extraHocon: $"akka-port-share.router.allowed-worker-users = [{Nobody}]");

        using var worker = host.StartWorkerProcess("not-allowed", "x/");

        var refusal = await worker.WaitForLineAsync("Registration of .* refused", Timeout);
        output.WriteLine(refusal);
        Assert.Contains("NotAuthorized", refusal);
        Assert.Contains("not in allowed-worker-users", refusal);
        var logged = await host.Router!.WaitForLineAsync("Refused registration of .*NotAuthorized", Timeout);
        output.WriteLine(logged);
        using var client = await FramingClient.ConnectAsync(host.Port);
        Assert.Equal(FramingFaults.EndpointNotFound, await client.OpenAsync(host.Via("x/svc")));
    }

    [Fact]
    public async Task A_worker_running_as_another_user_is_refused_by_default_and_served_once_that_user_is_allowed()
    {
        if (!CanSwitchUser)
        {
            output.WriteLine("Needs root and setpriv to start a worker as user nobody; the other user is covered by A_worker_whose_user_is_not_allowed…");
            return;
        }
        var handoverDirectory = Directory.CreateTempSubdirectory("aps-nobody-");
        File.SetUnixFileMode(handoverDirectory.FullName, (UnixFileMode)0x1FF); // 0777: nobody creates its own 0700 directory here
        try
        {
            using var host = new PortShareHost();
            var workerConfig = host.WriteConfig(
                $"akka-port-share.worker.handover-directory = \"{Path.Combine(handoverDirectory.FullName, "nobody")}\"");
            File.SetUnixFileMode(workerConfig, (UnixFileMode)0x1A4); // 0644
            string[] args = ["--address", host.Address("n/"), "--config", workerConfig];

            await host.StartRouterAsync(); // default allowed-worker-users: the router's own user and root
            using (var refused = host.StartWorkerAs("nobody-1", Nobody, args))
            {
                var refusal = await refused.WaitForLineAsync("Registration of .* refused", Timeout);
                output.WriteLine(refusal);
                Assert.Contains($"runs as user {Nobody} (nobody)", refusal);
            }
            host.Router!.Kill();

            await host.StartRouterAsync(extraHocon: "akka-port-share.router.allowed-worker-users = [\"nobody\"]");
            var admitted = host.StartWorkerAs("nobody-2", Nobody, args);
            await admitted.WaitForLineAsync($"Registered {PortShareHost.Regex(host.Address("n/"))} with the router", Timeout);
            using var client = await FramingClient.ConnectAsync(host.Port);
            Assert.Null(await client.OpenAsync(host.Via("n/svc")));
            Assert.Equal("nobody-2", await client.CallAsync("whoami"));
            output.WriteLine(await host.Router!.WaitForLineAsync("Registered .* for worker pid .*nobody", Timeout));
        }
        finally
        {
            handoverDirectory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task With_a_registration_secret_only_workers_that_carry_it_register()
    {
        using var host = new PortShareHost();
        await host.StartRouterAsync(extraHocon: "akka-port-share.router.registration-secret = \"e2e-s3cret\"");

        using var without = host.StartWorkerProcess("without-secret", "w/");
        var refusal = await without.WaitForLineAsync("Registration of .* refused", Timeout);
        var wrongConfig = host.WriteConfig("akka-port-share.worker.registration-secret = \"e2e-s3cre\"");
        using var wrong = host.StartWorkerAs("wrong-secret", null, ["--address", host.Address("w/"), "--config", wrongConfig]);
        var wrongRefusal = await wrong.WaitForLineAsync("Registration of .* refused", Timeout);
        var config = host.WriteConfig("akka-port-share.worker.registration-secret = \"e2e-s3cret\"");
        await host.StartWorkerAsync("with-secret", ["--address", host.Address("w/"), "--config", config], "w/");

        output.WriteLine(refusal);
        output.WriteLine(wrongRefusal);
        Assert.Contains("NotAuthorized", refusal);
        Assert.Contains("registration-secret", refusal);
        Assert.Contains("wrong registration-secret", wrongRefusal);
        using var client = await FramingClient.ConnectAsync(host.Port);
        Assert.Null(await client.OpenAsync(host.Via("w/svc")));
        Assert.Equal("with-secret", await client.CallAsync("whoami"));
        Assert.DoesNotContain("e2e-s3cret", host.Router!.Output);
    }

    [Fact]
    public async Task Over_TLS_a_worker_with_the_certificate_and_the_secret_registers_and_a_plain_one_cannot_even_connect()
    {
        // Akka.Remote's own TLS (dot-netty enable-ssl), mutual by default. The test certificate is self-signed, so
        // chain validation is suppressed: TLS here encrypts (the secret does not cross in clear text) and the
        // registration secret authenticates.
        using var host = new PortShareHost();
        var pfx = Path.Combine(Path.GetTempPath(), $"aps-tls-{Guid.NewGuid():N}.pfx");
        using (var rsa = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=akkaportshare-test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "test-pfx"));
        }
        try
        {
            var tls = $$"""
                akka.remote.dot-netty.tcp {
                  enable-ssl = true
                  ssl { suppress-validation = true, certificate { path = "{{pfx}}", password = "test-pfx" } }
                }
                """;
            await host.StartRouterAsync(extraHocon: tls + "\nakka-port-share.router.registration-secret = \"tls-secret\"");
            var config = host.WriteConfig(tls + "\nakka-port-share.worker.registration-secret = \"tls-secret\"");
            // With TLS on, Akka.Remote addresses use the akka.ssl.tcp scheme.
            var sslRouter = host.RouterAddress.Replace("akka.tcp://", "akka.ssl.tcp://");
            await host.StartWorkerAsync("tls-worker", ["--address", host.Address("t/"), "--config", config, "--router", sslRouter], "t/");
            using var client = await FramingClient.ConnectAsync(host.Port);
            Assert.Null(await client.OpenAsync(host.Via("t/svc")));
            Assert.Equal("tls-worker", await client.CallAsync("whoami"));

            var plainConfig = host.WriteConfig("akka-port-share.worker.registration-secret = \"tls-secret\"");
            using var plain = host.StartWorkerAs("plain-worker", null, ["--address", host.Address("p/"), "--config", plainConfig]);
            await host.Router!.WaitForLineAsync("TLS handshake failed", TimeSpan.FromSeconds(30));
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.Equal(0, plain.CountLines("Registered .* with the router"));
            Assert.Equal(0, host.Router!.CountLines("Registered .*/p/"));
            output.WriteLine(string.Join("\n", host.Router.Output.Split('\n').Where(l => l.Contains("ERROR") || l.Contains("WARN")).Take(5)));
        }
        finally
        {
            File.Delete(pfx);
        }
    }

    [Fact]
    public async Task The_remoting_port_workers_join_listens_on_loopback_only()
    {
        using var host = new PortShareHost();
        await host.StartRouterAsync();

        var listening = ListeningAddresses(host.RemotingPort);

        output.WriteLine($"remoting port {host.RemotingPort} listens on: {string.Join(", ", listening)}");
        Assert.NotEmpty(listening);
        Assert.All(listening, a => Assert.True(System.Net.IPAddress.IsLoopback(a), $"{a} is not a loopback address"));
    }

    // Local addresses of the sockets listening on a TCP port, from /proc/net/tcp and tcp6 (state 0A = LISTEN).
    private static List<System.Net.IPAddress> ListeningAddresses(int port)
    {
        var result = new List<System.Net.IPAddress>();
        foreach (var file in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            foreach (var line in File.ReadLines(file).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var local = fields[1].Split(':');
                if (fields[3] != "0A" || int.Parse(local[1], NumberStyles.HexNumber) != port) continue;
                var raw = Convert.FromHexString(local[0]);
                // /proc prints each 32-bit word in host (little-endian) order.
                for (var i = 0; i < raw.Length; i += 4) Array.Reverse(raw, i, 4);
                var address = new System.Net.IPAddress(raw);
                result.Add(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
            }
        }
        return result;
    }
}
