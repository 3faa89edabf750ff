using System.Net;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Registration;
using static AkkaPortShare.Contracts.Registration.RegistryProtocol;

namespace AkkaPortShare.Router.Tests.Registration;

/// <summary>The registry's stateless rules, one at a time: what a Register must be, and who is admitted without a channel.</summary>
public sealed class RegistrationChecksSpec
{
    private static readonly SharedSecret NoSecret = new("");
    private static readonly SharedSecret Secret = new("s3cret");
    private static readonly ListenEndPoint Listening = new(IPAddress.IPv6Any, 8808);
    private static readonly WorkerEndpoint Worker = new(4242, "localhost", null, "127.0.0.1", 9000);

    private static Refusal? Check(Register register, SharedSecret? secret = null) =>
        RegistrationChecks.Check(register, secret ?? NoSecret, Listening, out _);

    [Fact]
    public void Check_must_pass_a_well_formed_registration_and_give_its_address()
    {
        Assert.Null(RegistrationChecks.Check(new Register("net.tcp://+:8808/echo/", Worker), NoSecret, Listening, out var address));
        Assert.Equal(8808, address!.Port);
    }

    [Fact]
    public void Check_must_refuse_a_registration_without_address_or_worker_as_InvalidAddress()
    {
        Assert.Equal(RefusalReason.InvalidAddress, Check(new Register(null!, Worker))?.Reason);
        Assert.Equal(RefusalReason.InvalidAddress, Check(new Register("net.tcp://+:8808/echo/", null!))?.Reason);
    }

    [Fact]
    public void Check_must_refuse_a_missing_or_wrong_secret_before_looking_at_the_address()
    {
        var missing = Check(new Register("not an address", Worker), Secret);
        var wrong = Check(new Register("not an address", Worker, Secret: "guess"), Secret);

        Assert.Equal(RefusalReason.NotAuthorized, missing?.Reason);
        Assert.Contains("carries none", missing!.Message);
        Assert.Equal(RefusalReason.NotAuthorized, wrong?.Reason);
        Assert.Contains("wrong", wrong!.Message);
        Assert.Null(Check(new Register("net.tcp://+:8808/echo/", Worker, Secret: "s3cret"), Secret));
    }

    [Fact]
    public void Check_must_count_the_address_limit_in_UTF8_bytes()
    {
        const string prefix = "net.tcp://+:8808/";
        var exactly = prefix + new string('a', RegistrationChecks.MaxAddressBytes - prefix.Length);
        var twoByteChars = prefix + new string('é', (RegistrationChecks.MaxAddressBytes - prefix.Length) / 2 + 1);

        Assert.Null(Check(new Register(exactly, Worker)));
        Assert.Equal(RefusalReason.PathTooLong, Check(new Register(exactly + "b", Worker))?.Reason);
        Assert.True(twoByteChars.Length < RegistrationChecks.MaxAddressBytes);
        Assert.Equal(RefusalReason.PathTooLong, Check(new Register(twoByteChars, Worker))?.Reason);
    }

    [Fact]
    public void Check_must_refuse_an_unparsable_address_and_one_the_listener_does_not_cover()
    {
        Assert.Equal(RefusalReason.InvalidAddress, Check(new Register("http://+:8808/echo/", Worker))?.Reason);
        var otherPort = Check(new Register("net.tcp://+:9999/echo/", Worker));
        Assert.Equal(RefusalReason.NotListening, otherPort?.Reason);
        Assert.Contains("9999", otherPort!.Message);
    }

    [Fact]
    public void ChannelEndPoint_must_say_why_a_worker_has_no_usable_handover_socket()
    {
        Assert.Null(RegistrationChecks.ChannelEndPoint(null, socketsPassable: true, out var none));
        Assert.Equal("it offers no hand-over socket", none);
        Assert.Null(RegistrationChecks.ChannelEndPoint("/tmp/w.sock", socketsPassable: false, out _));
        Assert.Null(RegistrationChecks.ChannelEndPoint("", socketsPassable: true, out var empty));
        Assert.Contains("not usable", empty);
        Assert.Null(RegistrationChecks.ChannelEndPoint("/tmp/" + new string('x', 200), socketsPassable: true, out var tooLong));
        Assert.Contains("not usable", tooLong);
        Assert.NotNull(RegistrationChecks.ChannelEndPoint("/tmp/w.sock", socketsPassable: true, out _));
    }

    [Theory]
    [InlineData(HandoverMode.Fd, true, nameof(RefusalReason.HandoverUnavailable))]
    [InlineData(HandoverMode.Auto, false, nameof(RefusalReason.NotAuthorized))]
    [InlineData(HandoverMode.Relay, false, nameof(RefusalReason.NotAuthorized))]
    public void WithoutChannel_must_refuse_under_fd_mode_or_without_a_secret(HandoverMode mode, bool secretIsSet, string reason)
    {
        var expected = Enum.Parse<RefusalReason>(reason); // the registry protocol is internal: its enum cannot be a public test's parameter
        var refusal = RegistrationChecks.WithoutChannel(mode, secretIsSet, 4242, "it offers no hand-over socket");

        Assert.Equal(expected, refusal?.Reason);
        Assert.Contains("it offers no hand-over socket", refusal!.Message);
    }

    [Theory]
    [InlineData(HandoverMode.Auto)]
    [InlineData(HandoverMode.Relay)]
    public void WithoutChannel_must_admit_a_worker_with_the_secret_when_relaying_is_allowed(HandoverMode mode)
    {
        Assert.Null(RegistrationChecks.WithoutChannel(mode, secretIsSet: true, 4242, "it offers no hand-over socket"));
    }
}
