namespace AkkaPortShare.IntegrationTests.Harness;

/// <summary>A fact that runs only when the named environment variable is "1": for slow or known-unstable checks.</summary>
public sealed class OptInFactAttribute : FactAttribute
{
    public OptInFactAttribute(string variable)
    {
        if (Environment.GetEnvironmentVariable(variable) != "1")
            Skip = $"opt-in: set {variable}=1 to run";
    }
}
