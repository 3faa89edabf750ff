using AkkaPortShare.Router.Listening;

namespace AkkaPortShare.Router.Tests.Listening;

/// <summary>The accept thread's permits: shed connections hold one until they have closed, owing it if none is free.</summary>
public sealed class AcceptPermitsSpec
{
    [Fact]
    public void A_shed_takes_a_free_permit_and_gives_it_back_when_closed()
    {
        var permits = new AcceptPermits(2);
        permits.TakeForShed();
        Assert.Equal(1, permits.Free);
        permits.Release();
        Assert.Equal(2, permits.Free);
    }

    [Fact]
    public void A_shed_with_no_permit_free_owes_one_and_the_next_given_back_pays_it()
    {
        var permits = new AcceptPermits(1);
        permits.Wait(CancellationToken.None); // the accept thread holds the only one (a socket not yet taken)
        permits.TakeForShed();                // shed meanwhile: owes
        Assert.Equal(-1, permits.Free);

        permits.Release();                    // the socket is taken: its permit pays the shed's debt
        Assert.Equal(0, permits.Free);
        using var none = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        Assert.Throws<OperationCanceledException>(() => permits.Wait(none.Token)); // the accept thread still waits

        permits.Release();                    // the shed one has closed
        Assert.Equal(1, permits.Free);
        permits.Wait(CancellationToken.None);
    }

    [Fact]
    public void A_shed_that_closes_before_its_debt_is_paid_cancels_it()
    {
        var permits = new AcceptPermits(1);
        permits.Wait(CancellationToken.None);
        permits.TakeForShed();
        permits.Release(); // the shed one closed first: its debt is gone
        Assert.Equal(0, permits.Free);
        permits.Release(); // the socket taken: the permit is free again
        Assert.Equal(1, permits.Free);
    }
}
