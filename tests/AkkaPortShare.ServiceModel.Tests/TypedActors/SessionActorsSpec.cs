using Akka.Actor;
using AkkaPortShare.Samples.Echo;
using AkkaPortShare.ServiceModel.TypedActors;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.TypedActors;

/// <summary>ServeActor's per-session instances: one TallyActor per session id, stopped when its session ends.</summary>
public sealed class SessionActorsSpec : Akka.TestKit.Xunit2.TestKit
{
    public SessionActorsSpec() : base("akka.actor.provider = local", "SessionActorsSpec") { }

    private async Task<int> Add(IActorRef sessions, string sessionId, int amount)
    {
        sessions.Tell(new OperationInvoked("Add", [amount], CreateTestProbe().Ref, sessionId));
        return (int)(await ExpectMsgAsync<OperationResult>()).ReturnValue!;
    }

    [Fact]
    public async Task SessionActors_must_keep_one_actor_per_session()
    {
        var sessions = Sys.ActorOf(SessionActors.Props(Props.Create<TallyActor>()));
        sessions.Tell(new SessionStarted("s1", CreateTestProbe().Ref));
        sessions.Tell(new SessionStarted("s2", CreateTestProbe().Ref));

        Assert.Equal(5, await Add(sessions, "s1", 5));
        Assert.Equal(7, await Add(sessions, "s2", 7));
        Assert.Equal(6, await Add(sessions, "s1", 1));
    }

    [Fact]
    public async Task SessionActors_must_stop_a_sessions_actor_when_the_session_ends()
    {
        var sessions = Sys.ActorOf(SessionActors.Props(Props.Create<TallyActor>()));
        Assert.Equal(5, await Add(sessions, "s1", 5));
        var instance = LastSender; // the answer came from the session's own actor
        Watch(instance);

        sessions.Tell(new SessionEnded("s1"));

        await ExpectTerminatedAsync(instance);
        // The id again (a new session would have a new one): a new actor, new state.
        Assert.Equal(2, await Add(sessions, "s1", 2));
    }
}
