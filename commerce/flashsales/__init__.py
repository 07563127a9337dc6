"""Flash sales: a lower price on one product for a window and a quantity.

Below videos and live rooms (their cards and shelves show the sale) and below orders (checkout
charges it): the shared piece moved down so that every area imports downward only.
"""
