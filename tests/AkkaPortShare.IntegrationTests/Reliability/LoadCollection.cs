namespace AkkaPortShare.IntegrationTests.Reliability;

/// <summary>
/// Tests that load the machine (fuzzing, slow-client attacks, thousands of connections) run alone, after the
/// others: on a small machine they would otherwise slow down tests that check a liveness bound (a killed worker's
/// addresses gone within 1 s), and be slowed down by them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LoadCollection
{
    public const string Name = "load";
}
