"""The agent engine: the definition model, the node-type catalog, template variables, validation.

Nothing here imports an agentflow domain module or FastAPI; the API imports the engine, never the
reverse, so the worker can compile and run definitions without the web stack.
"""
