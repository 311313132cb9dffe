"""The training service: one project's model, trained and inspected through plain-data
requests — in the app's worker process, or in a script.

    from layerlab.engine.service.process import WorkerProcess
    worker = WorkerProcess().start()
    worker.on_messages = print                  # Replies and Events, as lists
    worker.call("reset", 1, generation=1)       # project generation 1 is open
    worker.call("train", 1, project=project_to_dict(p), base_dir=None, epochs=3)

* protocol.py — the messages (Call, Reply, Event) and the plain records they carry;
* requests.py — the registry: a request is declared once (name, handler, where the app keeps
  its result, where it runs); handlers.py declares them;
* service.py — TrainingService, which holds the trainer and answers requests;
* process.py — the spawned worker process and the app's handle on it;
* capture.py — the worker's capture process, which takes a run's periodic visual snapshots
  off the training thread.

Nothing here imports Qt; torch is imported only by the handlers, in the worker.
"""
