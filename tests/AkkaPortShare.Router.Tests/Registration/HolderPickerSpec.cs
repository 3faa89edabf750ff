using AkkaPortShare.Router.Configuration;
using AkkaPortShare.Router.Registration;

namespace AkkaPortShare.Router.Tests.Registration;

/// <summary>The choice among a shared address's workers, made on the accept loops' hot path.</summary>
public sealed class HolderPickerSpec
{
    private static WorkerLoad[] Loads(params int[] reported)
    {
        var loads = reported.Select(_ => new WorkerLoad()).ToArray();
        for (var i = 0; i < loads.Length; i++) loads[i].Report(reported[i]);
        return loads;
    }

    [Fact]
    public void HolderPicker_must_pick_the_worker_with_the_fewest_connections_counting_its_own_hand_overs()
    {
        var picker = new HolderPicker(SharedAddressBalancing.LeastConnections);
        var loads = Loads(3, 0, 1);

        var picks = Enumerable.Range(0, 5).Select(_ => picker.Pick(loads)).ToList();

        // 1 holds 0: it takes one (now 1, tied with 2), then 1 and 2 share until both reach 0's 3.
        Assert.Equal(1, picks[0]);
        Assert.DoesNotContain(0, picks);
        Assert.Equal([3, 3, 3], loads.Select(l => l.Estimate));
    }

    [Fact]
    public void HolderPicker_must_start_counting_afresh_at_each_report()
    {
        var picker = new HolderPicker(SharedAddressBalancing.LeastConnections);
        var loads = Loads(0, 0);
        for (var i = 0; i < 10; i++) picker.Pick(loads);
        Assert.Equal(10, loads.Sum(l => l.Estimate));

        loads[0].Report(2); // the worker closed some of them meanwhile
        loads[1].Report(7);

        Assert.Equal(0, picker.Pick(loads));
        Assert.Equal(3, loads[0].Estimate);
    }

    [Fact]
    public void HolderPicker_must_take_each_worker_in_turn_in_round_robin_whatever_it_holds()
    {
        var picker = new HolderPicker(SharedAddressBalancing.RoundRobin);
        var loads = Loads(100, 0, 0);

        var picks = Enumerable.Range(0, 9).Select(_ => picker.Pick(loads)).ToList();

        Assert.All(new[] { 0, 1, 2 }, i => Assert.Equal(3, picks.Count(p => p == i)));
    }

    [Fact]
    public void HolderPicker_must_not_count_or_choose_for_an_address_with_one_worker()
    {
        var picker = new HolderPicker(SharedAddressBalancing.LeastConnections);
        var loads = Loads(4);

        Assert.Equal(0, picker.Pick(loads));
        Assert.Equal(4, loads[0].Estimate);
    }

    [Fact]
    public void HolderPicker_must_allocate_nothing_per_pick()
    {
        var picker = new HolderPicker(SharedAddressBalancing.LeastConnections);
        var loads = Loads(1, 2, 3, 4);
        picker.Pick(loads); // warmed up

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++) picker.Pick(loads);

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
