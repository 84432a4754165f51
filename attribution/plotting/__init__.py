"""Every matplotlib call of the package lives in this sub-package.

One contract everywhere: matplotlib is imported inside the function, ``ax=None`` creates a
figure only when needed, and the function returns the ``Axes``.
"""

