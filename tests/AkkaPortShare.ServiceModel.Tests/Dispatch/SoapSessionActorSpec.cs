using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Xml;
using Akka.Actor;
using Akka.TestKit;
using AkkaPortShare.Samples.Echo;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Diagnostics;
using AkkaPortShare.ServiceModel.Dispatch;
using AkkaPortShare.ServiceModel.Tests.TestSupport;
using AkkaPortShare.Worker;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Dispatch;

/// <summary>
/// One WCF session: a probe stands in for the framing session (it receives <see cref="FramingSession.Send"/>),
/// another for the actor implementing the contract. The test plays the WCF client with its own binary session
/// encoder, building requests the way a WCF client does and decoding what the service sends back.
/// </summary>
public sealed partial class SoapSessionActorSpec : Akka.TestKit.Xunit2.TestKit
{
    // A session actor that throws stops (instead of restarting with a fresh encoder), so a crash shows.
    private const string Config = """
        akka.actor.provider = local
        akka.actor.guardian-supervisor-strategy = "Akka.Actor.StoppingSupervisorStrategy"
        akka-port-share.service-model.operation-timeout = 500ms
        """;

    private const string Samples = "urn:akkaportshare:samples";
    private const string SessionId = "IEchoService-1";

    private static readonly ContractMap Echo = ContractMap.For(typeof(IEchoService));
    private static readonly ContractMap Duplex = ContractMap.For(typeof(IEchoDuplexService));
    private static readonly ContractMap Approvals = ContractMap.For(typeof(IApprovals));

    private readonly TestProbe _framing;
    private readonly TestProbe _implementation;
    private readonly TestProbe _reliable;
    private readonly WcfClientSession _client = new();

    public SoapSessionActorSpec() : base(Config, "SoapSessionActorSpec")
    {
        _framing = CreateTestProbe("framing");
        // Flow control and the session's own life (accepted, announced) have their own specs.
        _framing.IgnoreMessages(m => m is FramingSession.RequestMessages or FramingSession.Accept);
        _implementation = CreateTestProbe("implementation");
        _implementation.IgnoreMessages(m => m is SessionStarted or SessionEnded);
        _reliable = CreateTestProbe("reliable-sessions");
    }

    private IActorRef StartSession(ContractMap? contract = null, ServiceModelSettings? settings = null, TestProbe? probe = null) =>
        Sys.ActorOf(SoapSessionActor.Props((probe ?? _framing).Ref, contract ?? Echo, (probe ?? _implementation).Ref,
            _reliable.Ref, settings ?? ServiceModelSettings.Create(Sys), SessionId,
            ServiceModelMetrics.Get(Sys).ForEndpoint("net.tcp://+:8808/svc/", (contract ?? Echo).ContractName)));

    private static OperationMap Op(ContractMap map, string name, string ns = Samples)
    {
        Assert.True(map.TryGetOperation($"{ns}/{map.ContractName}/{name}", out var operation));
        return operation!;
    }

    private static OperationMap Callback(ContractMap map, string name)
    {
        Assert.True(map.TryGetCallback(name, out var operation));
        return operation!;
    }

    private void Receive(IActorRef session, byte[] payload) => session.Tell(new FramingSession.MessageReceived(_framing.Ref, payload));

    private UniqueId Call(IActorRef session, OperationMap operation, params object?[] arguments)
    {
        var id = new UniqueId();
        Receive(session, _client.Request(operation, id, arguments));
        return id;
    }

    /// <summary>The next message the service sends on the session, decoded by the client.</summary>
    private async Task<MessageBuffer> SentAsync(TimeSpan? timeout = null)
    {
        var send = await _framing.ExpectMsgAsync<FramingSession.Send>(timeout ?? TimeSpan.FromSeconds(3));
        return _client.Decode(send.Payload);
    }

    private static object? Result(MessageBuffer reply, OperationMap operation)
    {
        using var message = reply.CreateMessage();
        return OperationBody.ReadResult(message.GetReaderAtBodyContents(), operation);
    }

    private static MessageFault Fault(MessageBuffer reply)
    {
        using var message = reply.CreateMessage();
        Assert.True(message.IsFault);
        return MessageFault.CreateFault(message, int.MaxValue);
    }

    private static (string? Action, UniqueId? RelatesTo, UniqueId? MessageId, bool IsFault) Headers(MessageBuffer buffer)
    {
        using var message = buffer.CreateMessage();
        return (message.Headers.Action, message.Headers.RelatesTo, message.Headers.MessageId, message.IsFault);
    }

    [Fact]
    public async Task SoapSessionActor_must_invoke_the_operation_and_send_the_reply_with_RelatesTo()
    {
        var session = StartSession();
        var echo = Op(Echo, "Echo");

        var id = Call(session, echo, "hello");

        var invoked = await _implementation.ExpectMsgAsync<OperationInvoked>();
        Assert.Equal("Echo", invoked.Operation);
        Assert.Equal(["hello"], invoked.Arguments);
        Assert.Equal(SessionId, invoked.SessionId);
        Assert.Equal(session, invoked.Callback);
        _implementation.Reply(new OperationResult("hello"));

        var reply = await SentAsync();
        var (action, relatesTo, _, isFault) = Headers(reply);
        Assert.Equal($"{Samples}/IEchoService/EchoResponse", action);
        Assert.Equal(id, relatesTo);
        Assert.False(isFault);
        Assert.Equal("hello", Result(reply, echo));
        // Plain (not WS-ReliableMessaging) messages stay with the session.
        _reliable.ExpectNoMsg(TimeSpan.Zero);
    }

    [Fact]
    public async Task SoapSessionActor_must_pass_no_arguments_and_return_value_types()
    {
        var session = StartSession();
        var count = Op(Echo, "PostedCount");

        var id = Call(session, count);
        var invoked = await _implementation.ExpectMsgAsync<OperationInvoked>();
        Assert.Equal(("PostedCount", 0), (invoked.Operation, invoked.Arguments.Length));
        _implementation.Reply(new OperationResult(42));

        var reply = await SentAsync();
        Assert.Equal(id, Headers(reply).RelatesTo);
        Assert.Equal(42, Result(reply, count));
    }

    [Fact]
    public async Task SoapSessionActor_must_send_a_typed_fault_with_the_fault_contracts_action_and_detail()
    {
        var session = StartSession();

        var id = Call(session, Op(Echo, "Fail"), "disk full");
        var invoked = await _implementation.ExpectMsgAsync<OperationInvoked>();
        Assert.Equal(["disk full"], invoked.Arguments);
        _implementation.Reply(new OperationFault("disk full", "EchoFailed", new EchoFault { Reason = "disk full" }));

        var reply = await SentAsync();
        var (action, relatesTo, _, isFault) = Headers(reply);
        Assert.True(isFault);
        Assert.Equal($"{Samples}/IEchoService/FailEchoFaultFault", action);
        Assert.Equal(id, relatesTo);
        var fault = Fault(reply);
        Assert.Equal("disk full", fault.Reason.ToString());
        Assert.Equal("Sender", fault.Code.Name);
        Assert.Equal("EchoFailed", fault.Code.SubCode?.Name);
        Assert.True(fault.HasDetail);
        Assert.Equal("disk full", fault.GetDetail<EchoFault>().Reason);

        // What the WCF client makes of it: FaultException<EchoFault>.
        var exception = Assert.IsType<FaultException<EchoFault>>(FaultException.CreateFault(fault, action, typeof(EchoFault)));
        Assert.Equal("disk full", exception.Detail.Reason);
    }

    [Fact]
    public async Task SoapSessionActor_must_send_a_plain_fault_for_a_fault_without_detail()
    {
        var session = StartSession();

        var id = Call(session, Op(Echo, "Echo"), "x");
        await _implementation.ExpectMsgAsync<OperationInvoked>();
        _implementation.Reply(new OperationFault("not today"));

        var reply = await SentAsync();
        var (action, relatesTo, _, isFault) = Headers(reply);
        Assert.True(isFault);
        Assert.Equal("http://www.w3.org/2005/08/addressing/soap/fault", action);
        Assert.Equal(id, relatesTo);
        var fault = Fault(reply);
        Assert.Equal("not today", fault.Reason.ToString());
        Assert.Equal("Sender", fault.Code.Name);
        Assert.Null(fault.Code.SubCode);
        Assert.False(fault.HasDetail);
    }

    [Fact]
    public async Task SoapSessionActor_must_send_a_plain_fault_when_the_detail_is_not_in_the_fault_contract()
    {
        var session = StartSession();

        var id = Call(session, Op(Echo, "Echo"), "x");
        await _implementation.ExpectMsgAsync<OperationInvoked>();
        // Echo has no [FaultContract]: the detail cannot be typed, the client still gets the reason and code.
        _implementation.Reply(new OperationFault("no detail for you", "Refused", new EchoFault { Reason = "dropped" }));

        var reply = await SentAsync();
        Assert.Equal((id, true), (Headers(reply).RelatesTo, Headers(reply).IsFault));
        var fault = Fault(reply);
        Assert.Equal("no detail for you", fault.Reason.ToString());
        Assert.Equal("Refused", fault.Code.SubCode?.Name);
        Assert.False(fault.HasDetail);
    }

    [Fact]
    public async Task SoapSessionActor_must_send_an_internal_service_fault_when_the_implementation_does_not_answer()
    {
        var session = StartSession();

        var id = Call(session, Op(Echo, "Echo"), "anyone?");
        await _implementation.ExpectMsgAsync<OperationInvoked>();
        // No answer: operation-timeout is 500ms.
        await _framing.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));

        var reply = await SentAsync(TimeSpan.FromSeconds(3));
        Assert.Equal((id, true), (Headers(reply).RelatesTo, Headers(reply).IsFault));
        var fault = Fault(reply);
        Assert.Equal("Receiver", fault.Code.Name);
        Assert.Equal("InternalServiceFault", fault.Code.SubCode?.Name);
        Assert.Contains("did not answer Echo", fault.Reason.ToString());
    }

    [Fact]
    public async Task SoapSessionActor_must_send_an_internal_service_fault_for_an_answer_of_the_wrong_kind()
    {
        var session = StartSession();

        var id = Call(session, Op(Echo, "Echo"), "x");
        await _implementation.ExpectMsgAsync<OperationInvoked>();
        _implementation.Reply("hello");

        var reply = await SentAsync();
        Assert.Equal(id, Headers(reply).RelatesTo);
        var fault = Fault(reply);
        Assert.Equal("InternalServiceFault", fault.Code.SubCode?.Name);
        Assert.Contains("String", fault.Reason.ToString());
    }

    [Fact]
    public async Task SoapSessionActor_must_deliver_one_way_operations_without_a_reply()
    {
        var session = StartSession();

        Receive(session, _client.Request(Op(Echo, "Post"), null, "note 1"));
        Receive(session, _client.Request(Op(Echo, "Post"), null, "note 2"));

        Assert.Equal(["note 1"], (await _implementation.ExpectMsgAsync<OperationInvoked>()).Arguments);
        Assert.Equal(["note 2"], (await _implementation.ExpectMsgAsync<OperationInvoked>()).Arguments);
        // Answering a one-way call changes nothing: the client waits for nothing.
        _implementation.Reply(new OperationResult(null));
        await _framing.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(700));
    }

    [Fact]
    public async Task SoapSessionActor_must_send_the_ActionNotSupported_fault_for_an_unknown_action()
    {
        var session = StartSession();
        var id = new UniqueId();

        Receive(session, _client.Request($"{Samples}/IEchoService/NotThere", OperationBody.Request(Op(Echo, "Echo"), ["x"]), id));

        var reply = await SentAsync();
        var (action, relatesTo, _, isFault) = Headers(reply);
        Assert.True(isFault);
        Assert.Equal("http://www.w3.org/2005/08/addressing/fault", action);
        Assert.Equal(id, relatesTo);
        var fault = Fault(reply);
        Assert.Equal("Sender", fault.Code.Name);
        Assert.Equal("ActionNotSupported", fault.Code.SubCode?.Name);
        Assert.Equal("http://www.w3.org/2005/08/addressing", fault.Code.SubCode?.Namespace);
        Assert.Contains($"{Samples}/IEchoService/NotThere", fault.Reason.ToString());
        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task SoapSessionActor_must_ignore_an_unknown_one_way_action()
    {
        var session = StartSession();

        Receive(session, _client.Request($"{Samples}/IEchoService/NotThere", OperationBody.Request(Op(Echo, "Echo"), ["x"]), null));

        await _framing.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
        // The session goes on.
        Call(session, Op(Echo, "Echo"), "next");
        await _implementation.ExpectMsgAsync<OperationInvoked>();
    }

    [Fact]
    public async Task SoapSessionActor_must_fault_a_request_whose_body_does_not_match_the_operation()
    {
        var session = StartSession();
        var id = new UniqueId();

        // The Echo action with the body of Identity: the arguments cannot be read.
        Receive(session, _client.Request($"{Samples}/IEchoService/Echo", OperationBody.Request(Op(Echo, "Identity"), []), id));

        var reply = await SentAsync();
        Assert.Equal(id, Headers(reply).RelatesTo);
        Assert.Contains("deserialize", Fault(reply).Reason.ToString());
        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    public static TheoryData<string, byte[]> Garbage() => new()
    {
        { "invalid UTF-8 in the dictionary", [0x04, 0x03, 0xC3, 0x28, 0xFF, 0x56, 0x02] },
        { "zeroes", new byte[64] },
    };

    /// <summary>Garbage that WCF's encoder rejects with exceptions the session actor does not expect.</summary>
    public static TheoryData<string, byte[]> UnexpectedGarbage() => new()
    {
        { "empty", [] },
        { "text", "hello, this is not SOAP"u8.ToArray() },
        { "plain XML", """<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>"""u8.ToArray() },
        { "bad dictionary size", [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] },
        { "dictionary larger than the message", [0xFF, 0xFF, 0x03, 0x01] },
    };

    [Theory]
    [MemberData(nameof(Garbage))]
    public Task SoapSessionActor_must_abort_the_connection_on_undecodable_bytes(string what, byte[] payload) =>
        AssertAbortsAsync(what, payload);

    [Theory]
    [MemberData(nameof(UnexpectedGarbage))]
    public Task SoapSessionActor_must_abort_the_connection_on_any_undecodable_bytes(string what, byte[] payload) =>
        AssertAbortsAsync(what, payload);

    [Fact]
    public async Task SoapSessionActor_must_abort_the_connection_on_a_malformed_addressing_header()
    {
        var session = StartSession();
        var message = Message.CreateMessage(WcfClientSession.Version, Op(Echo, "Echo").Action,
            OperationBody.Request(Op(Echo, "Echo"), ["x"]));
        message.Headers.MessageId = new UniqueId();
        message.Headers.To = new Uri("xx://host/");
        var payload = _client.Encode(message);
        // The To header's value on the wire becomes "x:://host/", which is no URI.
        var at = payload.AsSpan().IndexOf("xx://"u8);
        Assert.True(at > 0);
        payload[at + 1] = (byte)':';

        await AssertAbortsAsync("bad To header", payload, session);
    }

    private async Task AssertAbortsAsync(string what, byte[] payload, IActorRef? session = null)
    {
        session ??= StartSession();

        Receive(session, payload);

        var abort = await _framing.ExpectMsgAsync<FramingSession.Abort>(TimeSpan.FromSeconds(3), what);
        Assert.StartsWith("undecodable SOAP message", abort.Reason);
        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task SoapSessionActor_must_abort_the_connection_on_a_truncated_message()
    {
        var session = StartSession();
        var whole = _client.Request(Op(Echo, "Echo"), new UniqueId(), new string('x', 200));

        Receive(session, whole[..(whole.Length / 2)]);

        await _framing.ExpectMsgAsync<FramingSession.Abort>();
        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task SoapSessionActor_must_survive_fuzzed_messages()
    {
        // Valid requests with a few bytes changed. Whatever WCF's encoder makes of them, the session actor
        // handles it (aborts the connection, answers, dispatches or drops it) and does not crash.
        var random = new Random(1234);
        var echo = Op(Echo, "Echo");
        for (var round = 0; round < 100; round++)
        {
            var payload = new WcfClientSession().Request(echo, new UniqueId(), $"fuzz {round}");
            for (var flips = 0; flips < 3; flips++) payload[random.Next(payload.Length)] = (byte)random.Next(256);
            // One probe per round as both the framing session and the implementation.
            var probe = CreateTestProbe();
            var session = StartSession(probe: probe);

            session.Tell(new FramingSession.MessageReceived(probe.Ref, payload));
            // Handled after the fuzzed message: the answer shows the session actor is still there.
            session.Tell(new InvokeCallback("NotACallback"), probe.Ref);

            await probe.FishForMessageAsync(m => m is Status.Failure, TimeSpan.FromSeconds(3), $"round {round}: the session actor died");
            Sys.Stop(session);
        }
    }

    [Fact]
    public async Task SoapSessionActor_must_correlate_replies_by_RelatesTo()
    {
        var session = StartSession();
        var echo = Op(Echo, "Echo");

        var first = Call(session, echo, "one");
        var firstInvoked = await _implementation.ExpectMsgAsync<OperationInvoked>();
        var firstCaller = _implementation.LastSender;
        var second = Call(session, echo, "two");
        var secondInvoked = await _implementation.ExpectMsgAsync<OperationInvoked>();
        var secondCaller = _implementation.LastSender;
        Assert.Equal(["one"], firstInvoked.Arguments);
        Assert.Equal(["two"], secondInvoked.Arguments);

        // The second call is answered first.
        secondCaller.Tell(new OperationResult("two"));
        var reply = await SentAsync();
        Assert.Equal(second, Headers(reply).RelatesTo);
        Assert.Equal("two", Result(reply, echo));

        firstCaller.Tell(new OperationResult("one"));
        reply = await SentAsync();
        Assert.Equal(first, Headers(reply).RelatesTo);
        Assert.Equal("one", Result(reply, echo));
    }

    [Fact]
    public async Task SoapSessionActor_must_keep_the_encoder_session_across_many_messages()
    {
        var session = StartSession();
        var echo = Op(Echo, "Echo");

        for (var i = 0; i < 20; i++)
        {
            var id = Call(session, echo, $"call {i}");
            var invoked = await _implementation.ExpectMsgAsync<OperationInvoked>();
            _implementation.Reply(new OperationResult(invoked.Arguments[0]));
            var reply = await SentAsync();
            Assert.Equal(id, Headers(reply).RelatesTo);
            Assert.Equal($"call {i}", Result(reply, echo));
        }
    }

    [Fact]
    public async Task SoapSessionActor_must_send_a_one_way_callback()
    {
        var session = StartSession(Duplex);

        session.Tell(new InvokeCallback("Echoed", "called back"), TestActor);

        var sent = await SentAsync();
        var (action, relatesTo, messageId, isFault) = Headers(sent);
        Assert.Equal($"{Samples}/IEchoDuplexService/Echoed", action);
        Assert.Null(messageId);
        Assert.Null(relatesTo);
        Assert.False(isFault);
        var echoed = Callback(Duplex, "Echoed");
        using var message = sent.CreateMessage();
        Assert.Equal(["called back"], OperationBody.ReadArguments(message.GetReaderAtBodyContents(), echoed.WrapperName,
            echoed.WrapperNamespace, echoed.Parts));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task SoapSessionActor_must_send_a_callback_invoked_while_an_operation_runs()
    {
        // What WcfEchoDuplexService does: call back through OperationInvoked.Callback, then answer.
        var session = StartSession(Duplex);
        var operation = Op(Duplex, "EchoWithCallback");

        var id = Call(session, operation, "ping");
        var invoked = await _implementation.ExpectMsgAsync<OperationInvoked>();
        invoked.Callback.Tell(new InvokeCallback("Echoed", invoked.Arguments[0]), _implementation.Ref);
        _implementation.Reply(new OperationResult(invoked.Arguments[0]));

        var callback = await SentAsync();
        Assert.Equal($"{Samples}/IEchoDuplexService/Echoed", Headers(callback).Action);
        var reply = await SentAsync();
        Assert.Equal(($"{Samples}/IEchoDuplexService/EchoWithCallbackResponse", id), (Headers(reply).Action, Headers(reply).RelatesTo));
        Assert.Equal("ping", Result(reply, operation));
    }

    [Fact]
    public async Task SoapSessionActor_must_refuse_a_callback_the_contract_does_not_have()
    {
        var session = StartSession(Duplex);

        session.Tell(new InvokeCallback("NotACallback", "x"), TestActor);

        var failure = await ExpectMsgAsync<Status.Failure>();
        Assert.IsType<ArgumentException>(failure.Cause);
        Assert.Contains("NotACallback", failure.Cause.Message);
        await _framing.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task SoapSessionActor_must_answer_a_request_reply_callback_with_the_clients_reply()
    {
        var session = StartSession(Approvals);
        var confirm = Callback(Approvals, "Confirm");

        session.Tell(new InvokeCallback("Confirm", "approve order 7?"), TestActor);

        var sent = await SentAsync();
        var (action, _, messageId, _) = Headers(sent);
        Assert.Equal($"{IOrders.Ns}/IApprovals/Confirm", action);
        Assert.NotNull(messageId);
        using (var message = sent.CreateMessage())
        {
            Assert.True(message.Headers.ReplyTo?.IsAnonymous);
            Assert.Equal(["approve order 7?"], OperationBody.ReadArguments(message.GetReaderAtBodyContents(), confirm.WrapperName,
                confirm.WrapperNamespace, confirm.Parts));
        }
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));

        Receive(session, _client.CallbackReply(confirm, messageId!, "yes"));

        Assert.Equal("yes", (await ExpectMsgAsync<OperationResult>()).ReturnValue);
        await _implementation.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task SoapSessionActor_must_correlate_callback_replies_by_RelatesTo()
    {
        var session = StartSession(Approvals);
        var confirm = Callback(Approvals, "Confirm");
        var first = CreateTestProbe();
        var second = CreateTestProbe();

        session.Tell(new InvokeCallback("Confirm", "first?"), first.Ref);
        var firstId = Headers(await SentAsync()).MessageId!;
        session.Tell(new InvokeCallback("Confirm", "second?"), second.Ref);
        var secondId = Headers(await SentAsync()).MessageId!;
        Assert.NotEqual(firstId, secondId);

        Receive(session, _client.CallbackReply(confirm, secondId, "two"));
        Receive(session, _client.CallbackReply(confirm, firstId, "one"));

        Assert.Equal("two", (await second.ExpectMsgAsync<OperationResult>()).ReturnValue);
        Assert.Equal("one", (await first.ExpectMsgAsync<OperationResult>()).ReturnValue);
    }

    [Fact]
    public async Task SoapSessionActor_must_pass_a_callback_fault_to_the_caller()
    {
        var session = StartSession(Approvals);

        session.Tell(new InvokeCallback("Confirm", "approve?"), TestActor);
        var messageId = Headers(await SentAsync()).MessageId!;
        var fault = Message.CreateMessage(WcfClientSession.Version,
            new FaultCode("Receiver", "http://www.w3.org/2003/05/soap-envelope"), "the client said no",
            "http://www.w3.org/2005/08/addressing/soap/fault");
        fault.Headers.RelatesTo = messageId;
        Receive(session, _client.Encode(fault));

        // As WCF raises a fault without a declared detail: FaultException with the client's reason and code.
        var failure = await ExpectMsgAsync<Status.Failure>();
        var exception = Assert.IsType<FaultException>(failure.Cause);
        Assert.Equal("the client said no", exception.Reason.ToString());
        Assert.Equal("Receiver", exception.Code.Name);
    }

    [Fact]
    public async Task SoapSessionActor_must_survive_a_callback_reply_it_cannot_read()
    {
        var session = StartSession(Approvals);

        session.Tell(new InvokeCallback("Confirm", "approve?"), TestActor);
        var messageId = Headers(await SentAsync()).MessageId!;
        // A reply with the body of another operation.
        var reply = Message.CreateMessage(WcfClientSession.Version, "urn:wrong",
            OperationBody.Request(Op(Approvals, "Submit", IOrders.Ns), [new Order()]));
        reply.Headers.RelatesTo = messageId;
        Receive(session, _client.Encode(reply));

        // The caller hears of it one way or another, and the session goes on.
        var answer = await ExpectMsgAsync<object>();
        Assert.True(answer is OperationFault or Status.Failure, $"unexpected {answer}");
        session.Tell(new InvokeCallback("Progress", 1), TestActor);
        Assert.Equal($"{IOrders.Ns}/IApprovals/Progress", Headers(await SentAsync()).Action);
    }

    [Fact]
    public async Task SoapSessionActor_must_send_a_one_way_callback_of_a_contract_with_request_reply_callbacks_without_MessageId()
    {
        var session = StartSession(Approvals);

        session.Tell(new InvokeCallback("Progress", 50), TestActor);

        var sent = await SentAsync();
        Assert.Equal(($"{IOrders.Ns}/IApprovals/Progress", (UniqueId?)null), (Headers(sent).Action, Headers(sent).MessageId));
        var progress = Callback(Approvals, "Progress");
        using var message = sent.CreateMessage();
        Assert.Equal([50], OperationBody.ReadArguments(message.GetReaderAtBodyContents(), progress.WrapperName,
            progress.WrapperNamespace, progress.Parts));
    }

    [Fact]
    public async Task SoapSessionActor_must_fault_a_reply_larger_than_max_reply_size_and_go_on()
    {
        var settings = ServiceModelSettings.Create(Sys) with { MaxReplySize = 4096 };
        var session = StartSession(settings: settings);
        var echo = Op(Echo, "Echo");

        var big = Call(session, echo, "big");
        await _implementation.ExpectMsgAsync<OperationInvoked>();
        _implementation.Reply(new OperationResult(new string('x', 10_000)));

        var reply = await SentAsync();
        Assert.Equal(big, Headers(reply).RelatesTo);
        var fault = Fault(reply);
        Assert.Equal("InternalServiceFault", fault.Code.SubCode?.Name);
        Assert.Contains("max-reply-size", fault.Reason.ToString());

        // The encoder's session survives the failed write: the client still decodes what follows.
        var small = Call(session, echo, "small");
        await _implementation.ExpectMsgAsync<OperationInvoked>();
        _implementation.Reply(new OperationResult("small"));
        reply = await SentAsync();
        Assert.Equal(small, Headers(reply).RelatesTo);
        Assert.Equal("small", Result(reply, echo));
    }

    [Fact]
    public async Task SoapSessionActor_must_fail_a_request_reply_callback_it_cannot_send()
    {
        var session = StartSession(Approvals, ServiceModelSettings.Create(Sys) with { MaxReplySize = 4096 });

        session.Tell(new InvokeCallback("Confirm", new string('x', 10_000)), TestActor);

        // The caller must not wait forever for an answer to a callback that never left.
        var answer = await ExpectMsgAsync<object>();
        Assert.True(answer is OperationFault or Status.Failure, $"unexpected {answer}");
        await _framing.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task SoapSessionActor_must_survive_a_result_that_cannot_be_serialized()
    {
        var session = StartSession();
        Watch(session);
        var echo = Op(Echo, "Echo");

        var id = Call(session, echo, "x");
        await _implementation.ExpectMsgAsync<OperationInvoked>();
        // Echo returns a string; an Order is not a type its serializer knows.
        _implementation.Reply(new OperationResult(new Order { Id = 1 }));

        // The client must hear about it (a fault, or at least the connection closing), not wait for its timeout.
        var answer = await _framing.ExpectMsgAsync<object>(TimeSpan.FromSeconds(3));
        if (answer is FramingSession.Send send)
        {
            var reply = _client.Decode(send.Payload);
            Assert.Equal(id, Headers(reply).RelatesTo);
            Assert.Equal("InternalServiceFault", Fault(reply).Code.SubCode?.Name);
        }
        else
        {
            Assert.IsType<FramingSession.Abort>(answer);
        }
    }

    [Fact]
    public async Task SoapSessionActor_must_ask_for_max_concurrent_calls_per_session_messages_and_one_more_as_each_is_answered()
    {
        // Back-pressure (issue 10): the framing session delivers only what this actor asks for, so requests a slow
        // service has not answered wait in TCP, not in mailboxes.
        var framing = CreateTestProbe();
        var settings = ServiceModelSettings.Create(Sys) with { MaxConcurrentCallsPerSession = 2 };
        framing.IgnoreMessages<SessionStarted>(); // the probe is the implementation too
        var session = StartSession(settings: settings, probe: framing);
        Assert.Equal(session, (await framing.ExpectMsgAsync<FramingSession.Accept>()).Handler);
        Assert.Equal(2, (await framing.ExpectMsgAsync<FramingSession.RequestMessages>()).Count);

        var echo = Op(Echo, "Echo");
        session.Tell(new FramingSession.MessageReceived(framing.Ref, _client.Request(echo, new UniqueId(), "one")));
        session.Tell(new FramingSession.MessageReceived(framing.Ref, _client.Request(echo, new UniqueId(), "two")));
        await framing.ExpectMsgAsync<OperationInvoked>();
        var caller = framing.LastSender;
        await framing.ExpectMsgAsync<OperationInvoked>();
        await framing.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200)); // nothing more asked while both are open

        caller.Tell(new OperationResult("one"));
        await framing.ExpectMsgAsync<FramingSession.RequestMessages>(r => Assert.Equal(1, r.Count));
        await framing.ExpectMsgAsync<FramingSession.Send>();
    }
}
