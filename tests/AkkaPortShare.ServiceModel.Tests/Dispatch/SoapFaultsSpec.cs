using System.ServiceModel;
using System.ServiceModel.Channels;
using AkkaPortShare.Samples.Echo;
using AkkaPortShare.ServiceModel.Contracts;
using AkkaPortShare.ServiceModel.Dispatch;
using AkkaPortShare.ServiceModel.Tests.TestSupport;
using static AkkaPortShare.ServiceModel.ServiceOperations;

namespace AkkaPortShare.ServiceModel.Tests.Dispatch;

/// <summary>
/// The fault messages, as WCF's own client takes them (the in-memory transport answers every request with the
/// fault): the exception type, reason, code and detail the calling code sees.
/// </summary>
public sealed class SoapFaultsSpec
{
    private static readonly ContractMap Echo = ContractMap.For(typeof(IEchoService));

    private static TException CallAndCatch<TException>(Func<Message, OperationMap, Message> fault, Action<IEchoService> call)
        where TException : Exception
    {
        var (factory, echo) = InMemoryWcfClient.Create<IEchoService>(request =>
        {
            using (request)
            {
                Assert.True(Echo.TryGetOperation(request.Headers.Action, out var operation));
                return fault(request, operation!);
            }
        });
        try
        {
            return Assert.Throws<TException>(() => call(echo));
        }
        finally
        {
            factory.Abort();
        }
    }

    [Fact]
    public void SoapFaults_must_give_the_WCF_client_a_typed_FaultException()
    {
        var e = CallAndCatch<FaultException<EchoFault>>(
            (request, op) => SoapFaults.FromService(request.Version, op, new OperationFault("disk full", "EchoFailed", new EchoFault { Reason = "disk full" })),
            echo => echo.Fail("disk full"));

        Assert.Equal("disk full", e.Detail.Reason);
        Assert.Equal("disk full", e.Reason.ToString());
        Assert.True(e.Code.IsSenderFault);
        Assert.Equal("EchoFailed", e.Code.SubCode?.Name);
        Assert.Equal("urn:akkaportshare:samples/IEchoService/FailEchoFaultFault", e.Action);
    }

    [Fact]
    public void SoapFaults_must_give_the_WCF_client_a_plain_FaultException_without_detail()
    {
        var e = CallAndCatch<FaultException>(
            (request, op) => SoapFaults.FromService(request.Version, op, new OperationFault("not today")),
            echo => echo.Echo("x"));

        Assert.Equal(typeof(FaultException), e.GetType());
        Assert.Equal("not today", e.Reason.ToString());
        Assert.True(e.Code.IsSenderFault);
        Assert.Null(e.Code.SubCode);
    }

    [Fact]
    public void SoapFaults_must_keep_the_code_of_a_fault_whose_detail_is_not_in_the_contract()
    {
        var e = CallAndCatch<FaultException>(
            (request, op) => SoapFaults.FromService(request.Version, op, new OperationFault("refused", "Refused", new EchoFault())),
            echo => echo.Echo("x"));

        Assert.Equal(typeof(FaultException), e.GetType());
        Assert.Equal("Refused", e.Code.SubCode?.Name);
    }

    [Fact]
    public void SoapFaults_must_give_the_WCF_client_ActionNotSupportedException()
    {
        var e = CallAndCatch<ActionNotSupportedException>(
            (request, _) => SoapFaults.ActionNotSupported(request.Version, request.Headers.Action),
            echo => echo.Identity());

        Assert.Contains("urn:akkaportshare:samples/IEchoService/Identity", e.Message);
    }

    [Fact]
    public void SoapFaults_must_give_the_WCF_client_an_internal_service_fault()
    {
        var e = CallAndCatch<FaultException>(
            (request, _) => SoapFaults.Internal(request.Version, "The service did not answer Echo"),
            echo => echo.Echo("x"));

        Assert.Equal(typeof(FaultException), e.GetType());
        Assert.Equal("The service did not answer Echo", e.Reason.ToString());
        Assert.True(e.Code.IsReceiverFault);
        Assert.Equal("InternalServiceFault", e.Code.SubCode?.Name);
    }
}
