using Akka.Actor;
using AkkaPortShare.Contracts.Registration;
using AkkaPortShare.Protocol.Addressing;
using AkkaPortShare.Router.Registration;

namespace AkkaPortShare.Router.Tests.Registration;

/// <summary>The registry's tables: addresses and the ways an admitted worker is found again stay consistent.</summary>
public sealed class WorkerRegistrationsSpec : Akka.TestKit.Xunit2.TestKit
{
    private readonly WorkerRegistrations _workers = new();

    public WorkerRegistrationsSpec() : base("akka.actor.provider = local", "WorkerRegistrationsSpec") { }

    private RegisteredWorker WithChannel(int pid, out SharedSecret token)
    {
        token = SharedSecret.NewToken();
        var worker = new RegisteredWorker(new WorkerEndpoint(pid, "localhost", $"/tmp/w{pid}.sock", "127.0.0.1", 9000),
            CreateTestProbe().Ref, CreateTestProbe().Ref, passSockets: true, token, userId: 1000);
        _workers.AdmitWithChannel(worker);
        return worker;
    }

    private RegisteredWorker WithoutChannel(int pid)
    {
        var worker = new RegisteredWorker(new WorkerEndpoint(pid, "other-host", null, "10.0.0.2", 9000),
            CreateTestProbe().Ref, null, passSockets: false, null, null);
        _workers.AdmitWithoutChannel(worker);
        return worker;
    }

    [Fact]
    public void Add_must_tell_a_new_address_from_a_repeat_and_from_another_workers()
    {
        var first = WithChannel(1, out _);
        var second = WithoutChannel(2);
        var address = BaseAddress.Parse("net.tcp://+:8808/echo/");

        Assert.Equal(WorkerRegistrations.AddResult.Added, _workers.Add(address, first, out _));
        Assert.Equal(WorkerRegistrations.AddResult.AlreadyTheirs, _workers.Add(address, first, out _));
        Assert.Equal(WorkerRegistrations.AddResult.TakenByAnother, _workers.Add(address, second, out var owner));
        Assert.Same(first, owner);
    }

    [Fact]
    public void Workers_must_be_found_by_path_gateway_and_token_with_a_channel_and_by_actor_without()
    {
        var channel = WithChannel(1, out var token);
        var relayed = WithoutChannel(2);

        Assert.Same(channel, _workers.ByChannel("/tmp/w1.sock"));
        Assert.Same(channel, _workers.ByGateway(channel.Gateway!));
        Assert.Same(channel, _workers.ByToken(token.Value!));
        Assert.Null(_workers.ByToken(SharedSecret.NewToken().Value!));
        Assert.Null(_workers.ByActor(channel.ReplyTo));
        Assert.Same(relayed, _workers.ByActor(relayed.ReplyTo));
    }

    [Fact]
    public void RemoveWorker_must_forget_the_worker_and_every_address_it_owned_once()
    {
        var channel = WithChannel(1, out var token);
        var relayed = WithoutChannel(2);
        var echo = BaseAddress.Parse("net.tcp://+:8808/echo/");
        var calc = BaseAddress.Parse("net.tcp://+:8808/calc/");
        var other = BaseAddress.Parse("net.tcp://+:8808/other/");
        _workers.Add(echo, channel, out _);
        _workers.Add(calc, channel, out _);
        _workers.Add(other, relayed, out _);

        Assert.Equal([calc, echo], _workers.RemoveWorker(channel)!.OrderBy(a => a.ToString()));
        Assert.Null(_workers.RemoveWorker(channel));
        Assert.Null(_workers.ByChannel("/tmp/w1.sock"));
        Assert.Null(_workers.ByGateway(channel.Gateway!));
        Assert.Null(_workers.ByToken(token.Value!));
        Assert.Equal([other], _workers.Entries.Select(e => e.Address));

        Assert.Equal([other], _workers.RemoveWorker(relayed)!);
        Assert.Null(_workers.ByActor(relayed.ReplyTo));
        Assert.Empty(_workers.Entries);
    }

    [Fact]
    public void Remove_must_take_an_address_only_from_its_owner()
    {
        var owner = WithChannel(1, out _);
        var stranger = WithoutChannel(2);
        var echo = BaseAddress.Parse("net.tcp://+:8808/echo/");
        _workers.Add(echo, owner, out _);

        Assert.False(_workers.Remove(echo, stranger));
        Assert.True(_workers.Remove(echo, owner));
        Assert.Empty(_workers.Entries);
    }
}
