"""The decision layer: what the credits mean in money and what to do next.

Modules, imported lazily (``import attribution.decisions`` loads none of them), whose imports run
one way (each uses only those above it in this list):

* :mod:`.uncertainty`: bootstrap intervals of a model's credit (:func:`bootstrap`,
  :class:`BootstrapResult`);
* :mod:`.roi`: costs and ROI, ROAS, CPA per channel and model (:func:`channel_roi`,
  :class:`ROIResult`, :func:`normalise_costs`);
* :mod:`.scorecard`: the validity scorecard of an incremental model (:func:`validity`,
  :class:`ValidityResult`);
* :mod:`.budget`: response curves and budget plans (:func:`plan_budget`, :class:`BudgetPlan`);
* :mod:`.comparison`: several models side by side (:func:`compare`, :class:`Comparison`), the
  entry point that uses all of the above.

Tables, number formats and escaped HTML for every ``_repr_html_`` come from
:mod:`attribution._display`. The public names are exported by :mod:`attribution` itself.
"""
